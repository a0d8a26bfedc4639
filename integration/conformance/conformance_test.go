package conformance_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/conformance"
)

// TestConformance runs the suite against RUNLET_CONFORMANCE_SHIM when set
// (make conformance SHIM=...); otherwise against runlet's two shims and
// Debian's containerd-shim-runc-v2 (containerd 1.6), the reference.
func TestConformance(t *testing.T) {
	if shim := os.Getenv("RUNLET_CONFORMANCE_SHIM"); shim != "" {
		cfg := configFromEnv(t, shim)
		t.Run(filepath.Base(shim), func(t *testing.T) { conformance.Run(t, cfg) })
		return
	}
	for _, c := range []conformance.Config{
		runletShim(t, "runlet-shim-runc-v2", "runc"),
		runletShim(t, "runlet-shim-crun", "crun"),
		containerdShim(),
	} {
		t.Run(filepath.Base(c.Shim), func(t *testing.T) { conformance.Run(t, c) })
	}
}

// runletShim finds one of our shims in RUNLET_BIN (default <repo>/bin),
// building it into a temp dir when missing. Our shims claim every
// capability: a check they fail is a bug, never a skip.
func runletShim(t *testing.T, name, runtimeName string) conformance.Config {
	return conformance.Config{
		Shim:        ourBinary(t, name),
		Runtime:     runtimeName,
		DefaultRoot: "/run/runlet/runtime/" + runtimeName,
		Supports: []conformance.Capability{conformance.BootstrapV3, conformance.TaskV3, conformance.Info,
			conformance.OutputBeforeExit, conformance.ConcurrentFirstStart, conformance.BinaryLogURI,
			conformance.CRILogURI, conformance.EventsKept},
	}
}

// containerdShim is Debian's containerd 1.6 runc shim.
func containerdShim() conformance.Config {
	const why = "containerd 1.6 predates it"
	return conformance.Config{
		Shim:          "/usr/bin/containerd-shim-runc-v2",
		Runtime:       "runc",
		DefaultRoot:   "/run/containerd/runc",
		PublishBinary: "/usr/bin/containerd",
		Supports:      []conformance.Capability{conformance.BinaryLogURI},
		Lacks: map[conformance.Capability]string{
			conformance.BootstrapV3: why + " (bootstrap v3 is containerd >= 2.3)",
			conformance.TaskV3:      why + " (task v3 is containerd >= 2.0)",
			conformance.Info:        why + " (-info is containerd >= 2.0)",
			conformance.CRILogURI:   "a runlet extension: containerd's CRI copies the FIFOs into the log itself",
			conformance.EventsKept:  "containerd 1.6 evicts an event after five retries (measured: 12 refused connections for /tasks/oom and /tasks/exit over about 20 s, then \"evicting /tasks/exit from queue because of retry count\")",
		},
		Deviations: map[conformance.Deviation]string{
			conformance.DuplicateCreateCode:    "containerd 1.6 reports runc's error as Unknown",
			conformance.CloseIOUnknownExecCode: "containerd 1.6 reports a wrapped not-found as Unknown",
			conformance.TerminalStdinFIFOLeak:  "containerd 1.6's copyConsole never closes the stdin FIFO",
			conformance.DuplicateStartCode:     "containerd 1.6 answers a Start of a started or stopped process with Unknown",
			conformance.KillWaitsForStart:      "containerd 1.6's Kill takes the init's lock that a hanging Start holds",
		},
	}
}

func ourBinary(t *testing.T, name string) string {
	dir := os.Getenv("RUNLET_BIN")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "bin")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if testing.Short() {
		return path // Run skips anyway
	}
	out := filepath.Join(t.TempDir(), name)
	pkg := map[string]string{"runlet-shim-runc-v2": "./shims/runc-v2", "runlet-shim-crun": "./shims/crun"}[name]
	_, file, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

// configFromEnv describes the shim `make conformance SHIM=...` names: one
// of ours or containerd 1.6's get their known config; any other shim is
// probed, with RUNLET_CONFORMANCE_RUNTIME (default runc),
// RUNLET_CONFORMANCE_DEFAULT_ROOT and RUNLET_CONFORMANCE_SUPPORTS (a comma
// separated list of capabilities) describing it.
func configFromEnv(t *testing.T, shim string) conformance.Config {
	switch base := filepath.Base(shim); {
	case base == "runlet-shim-runc-v2" || base == "runlet-shim-crun":
		runtimeName := strings.TrimPrefix(strings.TrimSuffix(base, "-v2"), "runlet-shim-")
		cfg := runletShim(t, base, runtimeName)
		cfg.Shim = shim
		return cfg
	case base == "containerd-shim-runc-v2" && isContainerd16(shim):
		cfg := containerdShim()
		cfg.Shim = shim
		return cfg
	}
	cfg := conformance.Config{
		Shim:        shim,
		Runtime:     os.Getenv("RUNLET_CONFORMANCE_RUNTIME"),
		DefaultRoot: os.Getenv("RUNLET_CONFORMANCE_DEFAULT_ROOT"),
	}
	for _, c := range strings.Split(os.Getenv("RUNLET_CONFORMANCE_SUPPORTS"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.Supports = append(cfg.Supports, conformance.Capability(c))
		}
	}
	return cfg
}

// isContainerd16 asks the shim's -v whether it is containerd 1.6.
func isContainerd16(shim string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, shim, "-v").Output()
	return err == nil && regexp.MustCompile(`Version:\s+v?1\.6\.`).Match(out)
}
