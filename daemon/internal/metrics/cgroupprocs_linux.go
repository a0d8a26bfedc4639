package metrics

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/errdefs"
	"github.com/moby/sys/mountinfo"
)

// CgroupPids lists the processes of the cgroup pid is in (host pids), from
// its cgroup.procs: the unified hierarchy's on cgroup v2, else the pids
// hierarchy's (or memory's, or cpu's). Reading the file costs far less
// than a shim's Pids, which runs the OCI runtime's "ps".
func CgroupPids(pid uint32) ([]uint32, error) {
	legacy, unified, err := cgroups.ParseCgroupFileUnified(filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10), "cgroup"))
	if err != nil {
		return nil, err
	}
	dir, err := cgroupDir(legacy, unified)
	if err != nil {
		return nil, err
	}
	return readCgroupProcs(filepath.Join(dir, "cgroup.procs"))
}

func cgroupDir(legacy map[string]string, unified string) (string, error) {
	if cgroups.Mode() == cgroups.Unified {
		return filepath.Join("/sys/fs/cgroup", unified), nil
	}
	for _, ctrl := range []string{"pids", "memory", "cpu"} {
		path, ok := legacy[ctrl]
		if !ok {
			continue
		}
		mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
			found := m.FSType == "cgroup" && slices.Contains(strings.Split(m.VFSOptions, ","), ctrl)
			return !found, found
		})
		if err != nil || len(mounts) == 0 {
			continue
		}
		rel, ok := strings.CutPrefix(path, mounts[0].Root)
		if !ok {
			continue
		}
		return filepath.Join(mounts[0].Mountpoint, rel), nil
	}
	return "", fmt.Errorf("no mounted pids, memory or cpu cgroup hierarchy: %w", errdefs.ErrNotFound)
}

func readCgroupProcs(path string) ([]uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pids []uint32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, err := strconv.ParseUint(strings.TrimSpace(sc.Text()), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		pids = append(pids, uint32(n))
	}
	return pids, sc.Err()
}
