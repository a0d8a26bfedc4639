package daemontest

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// CgroupDirs is rel in every mounted cgroup hierarchy (v1 controllers and
// the unified one).
func CgroupDirs(rel string) []string {
	var dirs []string
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		p := filepath.Join("/sys/fs/cgroup", e.Name())
		if st, err := os.Lstat(p); err == nil && st.IsDir() {
			dirs = append(dirs, filepath.Join(p, rel))
		}
	}
	if len(dirs) == 0 { // pure v2
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", rel))
	}
	return dirs
}

// RemoveCgroupTree removes an empty cgroup and its children, deepest first.
func RemoveCgroupTree(t testing.TB, dir string) {
	var all []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			all = append(all, p)
		}
		return nil
	})
	sort.Sort(sort.Reverse(sort.StringSlice(all)))
	for _, d := range all {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("cleanup: cgroup left: %v", err)
		}
	}
}
