package conformance_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// runletShim is one of our shims, from RUNLET_BIN (default <repo>/bin) or
// built. Our shims claim every capability: a check they fail is a bug,
// never a skip.
func runletShim(t *testing.T, name, runtimeName string) conformance.Config {
	return conformance.RunletShimConfig(ourBinary(t, name), runtimeName)
}

// containerdShim is Debian's containerd 1.6 runc shim.
func containerdShim() conformance.Config {
	return conformance.Containerd16Config("/usr/bin/containerd-shim-runc-v2")
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

// configFromEnv describes the shim RUNLET_CONFORMANCE_SHIM names: one of
// ours or containerd 1.6's get their known config; any other shim is
// probed, with RUNLET_CONFORMANCE_RUNTIME (default runc),
// RUNLET_CONFORMANCE_DEFAULT_ROOT and RUNLET_CONFORMANCE_SUPPORTS (a comma
// separated list of capabilities) describing it. The command
// runlet-conformance reads the same variables as its flags' defaults.
func configFromEnv(t *testing.T, shim string) conformance.Config {
	if cfg, ok := conformance.KnownConfig(shim); ok {
		return cfg
	}
	supports, err := conformance.ParseCapabilities(os.Getenv("RUNLET_CONFORMANCE_SUPPORTS"))
	if err != nil {
		t.Fatalf("RUNLET_CONFORMANCE_SUPPORTS: %v", err)
	}
	return conformance.Config{
		Shim:        shim,
		Runtime:     os.Getenv("RUNLET_CONFORMANCE_RUNTIME"),
		DefaultRoot: os.Getenv("RUNLET_CONFORMANCE_DEFAULT_ROOT"),
		Supports:    supports,
	}
}
