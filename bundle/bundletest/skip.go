package bundletest

import (
	"os"
	"testing"
)

// RequireRoot skips the test in -short mode or when not running as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root and real mounts or runtimes: skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}
