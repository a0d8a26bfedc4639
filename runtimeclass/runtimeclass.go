package runtimeclass

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/anypb"
)

// Runtime is a runtime as configured: a shim and its options table.
type Runtime struct {
	// Shim is a name on PATH or an absolute path.
	Shim string
	// Options become containerd.runc.v1.Options (keys in snake_case, as
	// in proto, or in containerd's CamelCase).
	Options map[string]any
	// BootstrapParams starts the shim with containerd 2.3's protobuf
	// BootstrapParams on stdin instead of the bare options.
	BootstrapParams bool
}

// Handler is a validated runtime, ready to start shims with.
type Handler struct {
	Name string
	// Shim is the absolute path of the shim binary.
	Shim string
	// Options is the marshalled runtime options, nil when none are set.
	Options *anypb.Any
	// BootstrapParams: see Runtime.
	BootstrapParams bool

	mu       sync.Mutex
	learned  bool     // guarded by mu; the shim's -info was read
	crilog   bool     // guarded by mu
	features Features // guarded by mu
}

// Set is the configured handlers and the default one.
type Set struct {
	defaultName string
	handlers    map[string]*Handler
}

// ConfigError is a bad runtime setting: Key names it as in the config
// file ("runtimes.crun.shim", "default_runtime").
type ConfigError struct {
	Key string
	Err error
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// dnsLabel is the form of a RuntimeClass handler (RFC 1123 label).
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// New validates runtimes; errors name the offending key, e.g.
// "runtimes.crun.shim". defaultName must be one of them.
func New(defaultName string, runtimes map[string]Runtime) (*Set, error) {
	s := &Set{defaultName: defaultName, handlers: map[string]*Handler{}}
	for name, rt := range runtimes {
		h, err := newHandler(name, rt)
		if err != nil {
			return nil, err
		}
		s.handlers[name] = h
	}
	if _, ok := s.handlers[defaultName]; !ok {
		return nil, &ConfigError{Key: "default_runtime", Err: fmt.Errorf("%q is not a configured runtime (configured: %s): %w",
			defaultName, strings.Join(s.Names(), ", "), errdefs.ErrInvalidArgument)}
	}
	return s, nil
}

func newHandler(name string, rt Runtime) (*Handler, error) {
	if !dnsLabel.MatchString(name) {
		return nil, &ConfigError{Key: "runtimes." + name, Err: fmt.Errorf("a handler name must be a DNS label (lowercase letters, digits, '-'): %w", errdefs.ErrInvalidArgument)}
	}
	shim, err := resolveShim(rt.Shim)
	if err != nil {
		return nil, &ConfigError{Key: "runtimes." + name + ".shim", Err: err}
	}
	opts, err := encodeOptions(rt.Options)
	if err != nil {
		return nil, &ConfigError{Key: "runtimes." + name + ".options", Err: err}
	}
	return &Handler{Name: name, Shim: shim, Options: opts, BootstrapParams: rt.BootstrapParams}, nil
}

// resolveShim finds the shim binary and checks that it is executable.
func resolveShim(shim string) (string, error) {
	if shim == "" {
		return "", fmt.Errorf("no shim binary named: %w", errdefs.ErrInvalidArgument)
	}
	path, err := exec.LookPath(shim)
	if err != nil {
		return "", fmt.Errorf("%q is not an executable on PATH or a path: %w", shim, errdefs.ErrNotFound)
	}
	path, err = filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file: %w", path, errdefs.ErrInvalidArgument)
	}
	return path, nil
}

// Resolve returns the handler a pod's RuntimeHandler names: "" is the
// default. An unknown handler is InvalidArgument naming the known ones.
func (s *Set) Resolve(handler string) (*Handler, error) {
	if handler == "" {
		handler = s.defaultName
	}
	h, ok := s.handlers[handler]
	if !ok {
		return nil, fmt.Errorf("unknown runtime handler %q (configured handlers: %s): %w",
			handler, strings.Join(s.Names(), ", "), errdefs.ErrInvalidArgument)
	}
	return h, nil
}

// Default is the name of the default handler.
func (s *Set) Default() string { return s.defaultName }

// Names lists the configured handlers, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.handlers))
	for n := range s.handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
