package bundletest

import (
	"context"
	"os"
	"testing"

	"github.com/runlet/runlet/bundle"
)

// EnsureHybridCgroupsForCrun makes a hybrid cgroup host acceptable to crun
// with bundle.EnsureHugetlbV1, and fails the test if it cannot. It is not
// undone on cleanup (see bundle.EnsureHugetlbV1). Skips without root.
func EnsureHybridCgroupsForCrun(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("cgroup setup for crun needs root")
	}
	if err := bundle.EnsureHugetlbV1(context.Background()); err != nil {
		t.Fatalf("prepare cgroups for crun: %v", err)
	}
}
