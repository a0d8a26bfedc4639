package bundletest

import (
	"context"
	"os"
	"path/filepath"
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

// RemoveCgroupAtCleanup removes, at cleanup, the cgroup rel (a cgroupfs
// cgroupsPath such as "/<id>") from every mounted hierarchy, v1 and
// unified, children first, where it is left empty: a runtime that failed
// half-way, or a test that failed before deleting its container, can
// leave it behind. A cgroup that still holds processes is reported.
func RemoveCgroupAtCleanup(t testing.TB, rel string) {
	t.Helper()
	t.Cleanup(func() {
		roots, _ := filepath.Glob("/sys/fs/cgroup/*")
		roots = append(roots, "/sys/fs/cgroup")
		for _, root := range roots {
			removeCgroupTree(t, filepath.Join(root, rel))
		}
	})
}

func removeCgroupTree(t testing.TB, dir string) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() || dir == "/sys/fs/cgroup" {
		return
	}
	var all []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			all = append(all, p)
		}
		return nil
	})
	for i := len(all) - 1; i >= 0; i-- { // the walk lists parents first
		if err := os.Remove(all[i]); err != nil && !os.IsNotExist(err) {
			t.Errorf("cleanup: cgroup left: %v", err)
		}
	}
}
