// Package conformance checks that a containerd shim v2 binary behaves as
// containerd expects: bootstrap in every generation, every task RPC,
// events, stdio, grouping, the delete and -info subcommands, and that it
// leaks nothing. It drives real shims, real runtimes and real FIFOs.
//
// The command integration/cmd/runlet-conformance runs the suite against
// any shim binary (RunSuite); a runtime author can also call Run from a
// test of their own:
//
//	func TestMyShim(t *testing.T) {
//		conformance.Run(t, conformance.Config{
//			Shim:    "/usr/local/bin/containerd-shim-mine-v2",
//			Runtime: "runc",
//		})
//	}
//
// See README.md for what each check proves and how to read failures.
package conformance

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/integration/internal/shimtest"
)

// Capability is an optional part of the shim protocol.
type Capability string

const (
	// BootstrapV3: `start` reads protobuf BootstrapParams on stdin and
	// replies with a protobuf BootstrapResult (containerd >= 2.3).
	BootstrapV3 Capability = "bootstrap-v3"
	// TaskV3: with MAX_SHIM_VERSION=3 the shim replies version 3 and
	// serves containerd.task.v3.Task.
	TaskV3 Capability = "task-v3"
	// Info: `SHIM -info` prints a containerd.types.RuntimeInfo.
	Info Capability = "info"
	// OutputBeforeExit: Wait returns (and /tasks/exit is published) only
	// once the process's output has been copied into the stdio FIFOs, so a
	// client has read all but what the FIFO buffers. Never probed (it is a
	// timing property a shim can only promise): checked only when claimed.
	OutputBeforeExit Capability = "output-before-exit"
	// BinaryLogURI: binary:///path?k=v stdio URIs start a logging binary
	// (containerd's ctr --log-uri, nerdctl). Probed: a shim without it
	// must answer Create with Unimplemented.
	BinaryLogURI Capability = "binary-log-uri"
	// ConcurrentFirstStart: racing `start`s for a group no shim serves yet
	// fork exactly one server. Never probed (a race): checked when claimed.
	ConcurrentFirstStart Capability = "concurrent-first-start"
	// CRILogURI: crilog:///path stdio makes the shim write the kubelet's
	// CRI log format itself (runlet's shims). Probed through -info: a shim
	// that lists "crilog" in RuntimeInfo annotation
	// io.runlet.shim/stdio-schemes claims it.
	CRILogURI Capability = "crilog-uri"
	// EventsKept: events the daemon could not take are kept and delivered,
	// in order, once a daemon serves the events address again, however
	// many attempts that takes (runlet's shims; containerd 1.6 gives up
	// on an event after five retries). Never probed: checked when claimed.
	EventsKept Capability = "events-kept"
	// Checkpoint: the Checkpoint RPC reaches criu through the runtime
	// (containerd's runc shim, runlet's). Probed: a shim answering
	// Unimplemented has its check skipped; whether criu can dump on the
	// host is a separate matter (the check skips, quoting criu).
	Checkpoint Capability = "checkpoint"
)

// Config names the shim under test and what it supports.
type Config struct {
	// Shim is the shim binary.
	Shim string
	// Runtime is the OCI runtime the shim drives by default, by name or
	// path ("runc" when empty). The suite uses it to find and force-delete
	// containers a shim left behind.
	Runtime string
	// DefaultRoot is the runtime state root the shim uses when no runtime
	// options name one, without the namespace (containerd's runc shim:
	// /run/containerd/runc). Empty skips the check that sends no options.
	DefaultRoot string
	// PublishBinary is passed as -publish-binary ("/bin/false" when empty:
	// events must go over ttrpc to TTRPC_ADDRESS).
	PublishBinary string
	// Supports lists capabilities the shim claims: their checks must pass.
	Supports []Capability
	// Lacks lists capabilities the shim does not have, with the reason;
	// their checks are skipped with that reason.
	// A capability in neither list is probed: a shim that shows no sign of
	// it has the check skipped with what it answered.
	Lacks map[Capability]string
	// Busybox is the static busybox the containers' root filesystems are
	// made of ("": the one on PATH; Debian's busybox-static).
	Busybox string
	// Deviations are known departures from the protocol the shim's users
	// accept, with the reason: the affected assertion still requires the
	// call to fail (and the task to be unharmed) but accepts the shim's
	// status code, and logs the deviation.
	Deviations map[Deviation]string
}

// Deviation is a known, accepted departure of a shim from the protocol.
type Deviation string

const (
	// DuplicateCreateCode: a Create with an id in use fails, but not with
	// AlreadyExists (containerd 1.6 passes runc's "container with given ID
	// already exists" through as Unknown).
	DuplicateCreateCode Deviation = "duplicate-create-code"
	// CloseIOUnknownExecCode: CloseIO of an unknown exec fails, but not
	// with NotFound (containerd 1.6 returns Unknown "process does not
	// exist ...: not found").
	CloseIOUnknownExecCode Deviation = "closeio-unknown-exec-code"
	// TerminalStdinFIFOLeak: the shim keeps a terminal exec's stdin FIFO
	// open after the exec is deleted (containerd 1.6's copyConsole never
	// closes it); the leak check logs those fds instead of failing.
	TerminalStdinFIFOLeak Deviation = "terminal-stdin-fifo-leak"
	// DuplicateStartCode: a Start of a process that is no longer created
	// (a racing Start won, or a racing Kill ended it) fails, but not with
	// FailedPrecondition (containerd 1.6 answers Unknown "cannot start a
	// running process" / "a stopped process").
	DuplicateStartCode Deviation = "duplicate-start-code"
	// KillWaitsForStart: a Kill sent while Start hangs (in a poststart
	// hook) waits for the Start instead of reaching the process.
	KillWaitsForStart Deviation = "kill-waits-for-start"
	// FileURIStderrLost: with stdout and stderr both sent to one file://
	// log, the shim may lose stderr's output (containerd 1.6, on a loaded
	// machine: about one run in ten, the shim logging "error copying
	// stderr"); stdout's must still arrive.
	FileURIStderrLost Deviation = "file-uri-stderr-lost"
)

func (c *Config) claims(cap Capability) bool {
	for _, s := range c.Supports {
		if s == cap {
			return true
		}
	}
	return false
}

// require skips t when the shim lacks cap; it reports whether the shim
// claims it (false: unknown, probe and skip on no sign of it).
func (c *Config) require(t T, cap Capability) (claimed bool) {
	t.Helper()
	if reason, ok := c.Lacks[cap]; ok {
		t.Skipf("shim lacks %s: %s", cap, reason)
	}
	return c.claims(cap)
}

// T is what a check needs of its test. *testing.T is one (Run, under go
// test); the command's runner (RunSuite) has its own.
type T = shimtest.T

// ErrUnavailable is returned (wrapped) when the host cannot run the suite
// at all: not root, no runtime, no static busybox. Under go test it skips.
var ErrUnavailable = errors.New("this host cannot run the shim conformance suite")

// suite is what every check gets.
type suite struct {
	cfg       Config
	target    shimtest.Target
	namespace string
}

// newSuite checks cfg and the host, and gives the run its namespace.
func newSuite(cfg Config) (*suite, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: it needs root (mounts, cgroups, runtimes)", ErrUnavailable)
	}
	shim, err := filepath.Abs(cfg.Shim)
	if err != nil {
		return nil, fmt.Errorf("shim %q: %w", cfg.Shim, err)
	}
	if fi, err := os.Stat(shim); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("shim %q is not an executable file (%v)", cfg.Shim, err)
	}
	cfg.Shim = shim
	if cfg.Runtime == "" {
		cfg.Runtime = "runc"
	}
	runtime, err := exec.LookPath(cfg.Runtime)
	if err != nil {
		return nil, fmt.Errorf("%w: runtime %q not found: %w", ErrUnavailable, cfg.Runtime, err)
	}
	busybox, err := bundletest.StaticBusybox(cfg.Busybox)
	if err != nil {
		return nil, fmt.Errorf("%w: the containers' root filesystem needs a static busybox: %w", ErrUnavailable, err)
	}
	for _, c := range cfg.Supports {
		if reason, ok := cfg.Lacks[c]; ok {
			return nil, fmt.Errorf("config both supports and lacks %s (%s)", c, reason)
		}
	}
	return &suite{
		cfg: cfg,
		target: shimtest.Target{
			Shim: shim, Runtime: runtime, DefaultRoot: cfg.DefaultRoot,
			PublishBinary:     cfg.PublishBinary,
			TerminalStdinLeak: cfg.Deviations[TerminalStdinFIFOLeak],
			Busybox:           busybox,
		},
		namespace: "conformance-" + shimtest.RandomHex(4),
	}, nil
}

func (s *suite) describe() string {
	return fmt.Sprintf("shim %s, runtime %s, namespace %s, supports %v, lacks %s",
		s.cfg.Shim, s.target.Runtime, s.namespace, s.cfg.Supports, lacks(s.cfg.Lacks))
}

// runCheck runs one check in its own world (bundles, events server,
// stdio), whose cleanup ends with the leak check.
func (s *suite) runCheck(t T, c check) {
	c.run(t, s.env(t))
}

// Checks lists the name of every check, "group/Check", in the order the
// suite runs them.
func Checks() []string {
	var names []string
	for _, g := range allGroups() {
		for _, c := range g.checks {
			names = append(names, g.name+"/"+c.name)
		}
	}
	return names
}

func allGroups() []group { return append(groups[:len(groups):len(groups)], taskV3Group()) }

func lacks(m map[Capability]string) string {
	var out []string
	for c, r := range m {
		out = append(out, fmt.Sprintf("%s (%s)", c, r))
	}
	sort.Strings(out)
	return "[" + strings.Join(out, ", ") + "]"
}

// check is one named subtest.
type check struct {
	name string
	run  func(t T, x *tx)
}

type group struct {
	name   string
	checks []check
}

// groups lists every check, by area; each area's file appends its own.
var groups []group

func register(name string, checks ...check) {
	groups = append(groups, group{name: name, checks: checks})
}

// taskV3Group reruns the checks of a task's and an exec's whole life and
// of NotFound over containerd.task.v3.Task (what containerd >= 2.0
// speaks), for shims that claim task-v3.
func taskV3Group() group {
	over3 := func(run func(T, *tx)) func(T, *tx) {
		return func(t T, x *tx) {
			if !x.s.cfg.claims(TaskV3) {
				if reason, ok := x.s.cfg.Lacks[TaskV3]; ok {
					t.Skipf("shim lacks %s: %s", TaskV3, reason)
				}
				t.Skipf("%s not claimed (bootstrap/Gen2MaxVersion3... probes it)", TaskV3)
			}
			x.maxVersion = 3
			run(t, x)
		}
	}
	return group{name: "taskv3", checks: []check{
		{"LifecycleStateCreateStartWaitDeleteWithBindRootfs", over3(taskLifecycle)},
		{"ExecLifecycleEventsAndExitBeforeInitExit", over3(execLifecycle)},
		{"UnknownIDIsNotFoundForEveryRPC", over3(taskUnknownID)},
		{"PauseResumeFreezeAndThawWithEvents", over3(taskPauseResume)},
		{"StatsReturnsCgroupMetrics", over3(taskStats)},
		{"ShutdownKeepsServingWhileTaskExistsExitsWhenNone", over3(taskShutdown)},
	}}
}
