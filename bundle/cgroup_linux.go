package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

var hugetlbMu sync.Mutex

// EnsureHugetlbV1 prepares a hybrid cgroup host for crun. crun (1.8)
// refuses a hybrid layout while the cgroup2 hierarchy at
// /sys/fs/cgroup/unified holds a controller; on such hosts that controller
// is hugetlb. Mounting a v1 hugetlb hierarchy at /sys/fs/cgroup/hugetlb
// moves it off cgroup2, as a systemd hybrid host does. A read-only
// /sys/fs/cgroup is made writable for the mkdir and read-only again.
//
// It does nothing on pure v1 or pure v2 hosts and when hugetlb is already
// off cgroup2, so it is safe to call before every crun run. The mount is
// meant to stay: undoing it while cgroups remain in the hierarchy leaves a
// v1 hierarchy without a mount, which breaks the cgroups library.
func EnsureHugetlbV1(ctx context.Context) error {
	hugetlbMu.Lock()
	defer hugetlbMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	need, err := unifiedHoldsController("hugetlb")
	if err != nil || !need {
		return err
	}
	dir := filepath.Join(cgroupRoot, "hugetlb")
	if err := mkdirCgroupDir(dir); err != nil {
		return err
	}
	err = unix.Mount("cgroup", dir, "cgroup", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "hugetlb")
	if err != nil {
		// Another process may have moved it meanwhile.
		if still, _ := unifiedHoldsController("hugetlb"); !still {
			return nil
		}
		return fmt.Errorf("mount v1 hugetlb hierarchy at %s: %w", dir, err)
	}
	return nil
}

// unifiedHoldsController reports whether the host is hybrid (tmpfs at
// /sys/fs/cgroup, cgroup2 at unified/) with controller on cgroup2.
func unifiedHoldsController(controller string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", cgroupRoot, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return false, nil
	}
	unified := filepath.Join(cgroupRoot, "unified")
	if err := unix.Statfs(unified, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return false, nil
	}
	data, err := os.ReadFile(filepath.Join(unified, "cgroup.controllers"))
	if err != nil {
		return false, fmt.Errorf("read cgroup2 controllers: %w", err)
	}
	return slices.Contains(strings.Fields(string(data)), controller), nil
}

// mkdirCgroupDir creates dir in /sys/fs/cgroup, making a read-only tmpfs
// writable for the moment.
func mkdirCgroupDir(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if err == nil || errors.Is(err, os.ErrExist) {
		return nil
	}
	if !errors.Is(err, unix.EROFS) {
		return fmt.Errorf("create %s: %w", dir, classifyFSError(err))
	}
	restore, err := remountCgroupRootRW()
	if err != nil {
		return err
	}
	err = os.Mkdir(dir, 0o755)
	if rerr := restore(); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

// remountCgroupRootRW makes /sys/fs/cgroup writable, keeping its other
// flags, and returns the function that makes it read-only again.
func remountCgroupRootRW() (func() error, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", cgroupRoot, err)
	}
	// ST_NOSUID, ST_NODEV and ST_NOEXEC have the values of their MS_ flags.
	keep := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount("", cgroupRoot, "", unix.MS_REMOUNT|keep, ""); err != nil {
		return nil, fmt.Errorf("remount %s read-write: %w: %w", cgroupRoot, err, errdefs.ErrFailedPrecondition)
	}
	return func() error {
		if err := unix.Mount("", cgroupRoot, "", unix.MS_REMOUNT|unix.MS_RDONLY|keep, ""); err != nil {
			return fmt.Errorf("remount %s read-only: %w", cgroupRoot, err)
		}
		return nil
	}, nil
}
