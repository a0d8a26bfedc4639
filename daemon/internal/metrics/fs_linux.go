package metrics

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// ReadFS measures the writable layer dir: the blocks its files take (each
// inode once) and the size and inodes of the filesystem holding it.
func ReadFS(dir string) (*FS, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return nil, err
	}
	var dst unix.Stat_t
	if err := unix.Stat(dir, &dst); err != nil {
		return nil, err
	}
	usage, err := diskUsage(dir)
	if err != nil {
		return nil, err
	}
	return &FS{
		Device: deviceOf(dst.Dev),
		Limit:  st.Blocks * uint64(st.Bsize), Usage: usage,
		InodesTotal: st.Files, InodesFree: st.Ffree,
	}, nil
}

// diskUsage sums the allocated blocks under dir, as du does.
func diskUsage(dir string) (uint64, error) {
	seen := map[uint64]bool{}
	var total uint64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished or unreadable: not counted
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || seen[st.Ino] {
			return nil
		}
		if st.Nlink > 1 {
			seen[st.Ino] = true
		}
		total += uint64(st.Blocks) * 512
		return nil
	})
	return total, err
}

// deviceOf names the filesystem of device number dev by its mount source,
// else "major:minor".
func deviceOf(dev uint64) string {
	major, minor := unix.Major(dev), unix.Minor(dev)
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return m.Major != int(major) || m.Minor != int(minor), false
	})
	if err == nil && len(mounts) > 0 && mounts[0].Source != "" {
		return mounts[0].Source
	}
	return strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
}
