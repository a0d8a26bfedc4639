package shimtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/proto/runc/options"
)

// Target is the shim under test and the runtime it drives.
type Target struct {
	// Shim is the shim binary (absolute path).
	Shim string
	// Runtime is the OCI runtime binary the shim drives by default ("runc",
	// "crun" or a path); the harness uses it to list and force-delete
	// leftover containers.
	Runtime string
	// DefaultRoot is the runtime state root the shim uses when the runtime
	// options name none (the namespace is appended): /run/containerd/runc
	// for containerd's runc shim. Empty: unknown, and checks that send no
	// options are skipped.
	DefaultRoot string
	// PublishBinary is passed as -publish-binary.
	PublishBinary string
	// TerminalStdinLeak, when set, is the reason the shim is known to keep
	// a terminal exec's stdin FIFO open after the exec is deleted
	// (containerd 1.6's copyConsole never closes it): such fds are logged,
	// not reported as leaks. Every other fd still is.
	TerminalStdinLeak string
	// Busybox is the static busybox the container root filesystems are
	// made of ("": the one on PATH).
	Busybox string
}

// CgroupParent is the cgroup under which the containers of a namespace
// (one suite run) live: /runlet-<namespace>/<container id>. It is the
// run's own, so removing it when empty never races another run.
func CgroupParent(namespace string) string { return "runlet-" + namespace }

// Env is one test's world: namespace, events server, dirs, and everything
// to clean up and leak-check when the test ends.
type Env struct {
	T      T
	Target Target
	// Namespace is shared by a whole suite run (unique per run).
	Namespace string
	// Dir is a short private temp dir (unix socket paths must fit in 108
	// bytes) holding the events socket, stdio FIFOs and rootfs trees.
	Dir string
	// SocketDir is given to the shims as RUNLET_SHIM_SOCKET_DIR and as
	// BootstrapParams.socket_dir; shims that ignore both use their own.
	SocketDir string
	// Address is the fake containerd address passed as -address.
	Address string
	// PublishBinary is passed as -publish-binary.
	PublishBinary string
	// RuntimeRoot is the root the harness sends in the runtime options.
	RuntimeRoot string
	Events      *EventServer

	mu          sync.Mutex
	dialMu      sync.Mutex
	shims       map[string]*Shim // by address
	containers  []string         // every container id created
	bundles     []string
	roots       map[string]bool // runtime roots used (without namespace)
	staleSocket map[string]bool // sockets of shims the test killed on purpose
	pids        map[int]string  // shim pid -> start time
	stdios      []*Stdio
}

// NewEnv prepares a test's world and registers its cleanup and leak check.
func NewEnv(t T, target Target, namespace string) *Env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if filepath.Base(target.Runtime) == "crun" {
		if err := bundle.EnsureHugetlbV1(context.Background()); err != nil {
			t.Fatalf("prepare cgroups for crun: %v", err)
		}
	}
	dir, err := os.MkdirTemp("", "rc-")
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{
		T: t, Target: target, Namespace: namespace, Dir: dir,
		SocketDir:     filepath.Join(dir, "s"),
		Address:       filepath.Join(dir, "containerd.sock"),
		PublishBinary: target.PublishBinary,
		RuntimeRoot:   filepath.Join(dir, "root"),
		shims:         map[string]*Shim{},
		roots:         map[string]bool{},
		staleSocket:   map[string]bool{},
	}
	if e.PublishBinary == "" {
		e.PublishBinary = "/bin/false"
	}
	// Registered first, so it runs last: after every shim and bundle is gone.
	t.Cleanup(func() {
		e.finalLeakCheck()
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	if err := os.Mkdir(e.SocketDir, 0o700); err != nil {
		t.Fatal(err)
	}
	events, err := StartEventServer(filepath.Join(dir, "events.sock"))
	if err != nil {
		t.Fatal(err)
	}
	e.Events = events
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		events := e.Events // the last one ServeEvents started
		events.Unstall()
		if err := events.Close(ctx); err != nil {
			t.Logf("close events server: %v", err)
		}
	})
	return e
}

// StopEvents closes the events server (its socket goes): the daemon is
// away. ServeEvents brings a new one up on the same path.
func (e *Env) StopEvents(ctx context.Context) error {
	return e.Events.Close(ctx)
}

// ServeEvents starts a new events server on the path the shims were given
// (a restarted daemon) and makes it e.Events.
func (e *Env) ServeEvents() error {
	events, err := StartEventServer(e.Events.Socket)
	if err != nil {
		return err
	}
	e.Events = events // NewEnv's cleanup closes it, after the shims are gone
	return nil
}

// Options are the runtime options the harness sends by default: only the
// state root, so every runtime state lands in a dir the test owns.
func (e *Env) Options() *options.Options {
	e.useRoot(e.RuntimeRoot)
	return &options.Options{Root: e.RuntimeRoot}
}

func (e *Env) useRoot(root string) {
	e.mu.Lock()
	e.roots[root] = true
	e.mu.Unlock()
}

// UseDefaultRoot records that a test let the shim pick its default root,
// so the leak check lists it too.
func (e *Env) UseDefaultRoot() {
	if e.Target.DefaultRoot != "" {
		e.useRoot(e.Target.DefaultRoot)
	}
}

// Context returns a context with a generous deadline, cancelled when the
// test ends: every blocking call of a test takes one.
func Context(t T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// NewID returns a fresh container id "<prefix>-<random>".
func NewID(prefix string) string {
	return prefix + "-" + RandomHex(4)
}
