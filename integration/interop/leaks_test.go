package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// assertNoShimLeft fails if a process of the shim binary outlives its
// tasks (a zombie waiting for containerd to reap it does not count).
func assertNoShimLeft(t *testing.T, shim string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := liveProcessesOf(shim)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("shim processes left: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func liveProcessesOf(binary string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != binary {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && !isZombie(string(stat)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func isZombie(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}

// removeCgroupParent removes the /<namespace> cgroup ctr's containers
// were placed under (runc removes only the container's own cgroup).
func removeCgroupParent(t *testing.T, ns string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", ns))
	if unified := filepath.Join("/sys/fs/cgroup/unified", ns); exists(unified) {
		dirs = append(dirs, unified)
	}
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("cgroup %s left: %v", d, err)
		}
	}
}

// removeRuntimeRoots removes the per-namespace runtime state directories
// our shims created (runc/crun keep their own state inside; it must be
// empty by now).
func removeRuntimeRoots(t *testing.T, ns string) {
	dirs, _ := filepath.Glob(filepath.Join("/run/runlet/runtime", "*", ns))
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("runtime state left in %s: %v", d, err)
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
