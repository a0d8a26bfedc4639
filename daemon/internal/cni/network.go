package cni

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
)

// DefaultPluginTimeout bounds one ADD or DEL of a whole config list when the
// caller's context has no earlier deadline. It is below kubelet's default
// runtime request timeout (2m), so a hung plugin surfaces as this package's
// error rather than as a cancelled RPC.
const DefaultPluginTimeout = time.Minute

// DefaultInterfaceName is the pod-side interface name CNI plugins create.
const DefaultInterfaceName = "eth0"

// Network runs the CNI plugins of the first network config in a directory
// for pods. Its fields never change after New; the config is re-read on
// every call (see the package doc). ADD and DEL take turns (see acquire).
type Network struct {
	binDirs []string
	confDir string
	ifName  string
	timeout time.Duration
	cni     *libcni.CNIConfig
	running chan struct{} // capacity 1, full while an ADD or DEL runs
}

// Option adjusts a Network made by New.
type Option func(*options)

type options struct {
	cacheDir string
	timeout  time.Duration
}

// WithCacheDir sets where libcni keeps the result and config of each ADD
// (used by Teardown). The default is libcni's, /var/lib/cni, shared with
// other CNI runtimes as CNI expects; tests point it at a temp dir.
func WithCacheDir(dir string) Option {
	return func(o *options) { o.cacheDir = dir }
}

// WithPluginTimeout replaces DefaultPluginTimeout.
func WithPluginTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// New returns a Network whose plugins are looked up in binDirs and whose
// config is the first file in confDir. A missing or empty confDir is not an
// error: pods then get loopback only. Relative directories are
// errdefs.ErrInvalidArgument.
func New(binDirs []string, confDir string, opts ...Option) (*Network, error) {
	o := options{timeout: DefaultPluginTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkDirs(binDirs, confDir, o.cacheDir); err != nil {
		return nil, err
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("cni: plugin timeout %v must be positive: %w", o.timeout, errdefs.ErrInvalidArgument)
	}
	return &Network{
		binDirs: append([]string(nil), binDirs...),
		confDir: confDir,
		ifName:  DefaultInterfaceName,
		timeout: o.timeout,
		cni:     libcni.NewCNIConfigWithCacheDir(binDirs, o.cacheDir, nil),
		running: make(chan struct{}, 1),
	}, nil
}

// checkDirs rejects relative directories, which would depend on the
// daemon's working directory.
func checkDirs(binDirs []string, confDir, cacheDir string) error {
	for _, d := range binDirs {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("cni: plugin dir %q is not absolute: %w", d, errdefs.ErrInvalidArgument)
		}
	}
	for _, d := range []string{confDir, cacheDir} {
		if d != "" && !filepath.IsAbs(d) {
			return fmt.Errorf("cni: dir %q is not absolute: %w", d, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}
