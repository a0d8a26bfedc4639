package bundletest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// shimPackages maps runlet's shim binaries to their main packages.
var shimPackages = map[string]string{
	"runlet-shim-runc-v2": "./shims/runc-v2",
	"runlet-shim-crun":    "./shims/crun",
}

// ShimBinary returns the path of one of runlet's shim binaries: from
// RUNLET_BIN (make test sets it to bin/), else <repo>/bin when `make build`
// put it there, else built into the test's temp dir. Tests run shims as
// separate processes; they never import them.
func ShimBinary(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv("RUNLET_BIN"); dir != "" {
		return filepath.Join(dir, name)
	}
	if p := filepath.Join(repoRoot(), "bin", name); isFile(p) {
		return p
	}
	pkg, ok := shimPackages[name]
	if !ok {
		t.Fatalf("unknown shim %q", name)
	}
	out := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

// repoRoot is the module root, two levels above this file.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
