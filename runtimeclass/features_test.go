package runtimeclass

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// buildShim builds one of our shims into a temp dir.
func buildShim(t *testing.T, pkg string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = filepath.Join(filepath.Dir(file), "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func TestInfoReportsOurShimAndItsRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a shim and runs runc")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed")
	}
	s, err := New("runc", map[string]Runtime{"runc": {Shim: buildShim(t, "./shims/runc-v2"), Options: map[string]any{"binary_name": "runc"}}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Resolve("")
	info, err := h.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != "runlet-shim-runc-v2" || info.GetFeatures() == nil || info.GetOptions() == nil {
		t.Fatalf("info %v", info)
	}
}

func TestInfoOfAShimWithoutInfoFails(t *testing.T) {
	const old = "/usr/bin/containerd-shim-runc-v2" // containerd 1.6 predates -info
	if _, err := os.Stat(old); err != nil {
		t.Skip("containerd 1.6's shim not installed")
	}
	s, err := New("c", map[string]Runtime{"c": {Shim: old}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Resolve("c")
	if _, err := h.Info(context.Background()); err == nil {
		t.Fatal("-info of containerd 1.6's shim succeeded")
	}
}
