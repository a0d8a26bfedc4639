package idmap

import (
	"context"
	"os"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var probed sync.Map // dir -> error

// Supported reports whether the filesystem holding dir takes id-mapped
// mounts (Linux 5.12+, per filesystem: tmpfs from 6.3), asking the kernel
// once per dir. Only the kernel's answer is kept: a probe that could not
// run (a cancelled call, a failed fork) is tried again next time.
func Supported(ctx context.Context, dir string) error {
	if err, ok := probed.Load(dir); ok {
		return errOrNil(err)
	}
	answered, err := probe(ctx, dir)
	if answered {
		probed.Store(dir, err)
	}
	return err
}

func errOrNil(v any) error {
	if v == nil {
		return nil
	}
	return v.(error)
}

// probe asks the kernel; answered is false when the question could not be
// put (no user namespace to map with).
func probe(ctx context.Context, dir string) (answered bool, err error) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 30, Size: 1}}
	h, err := Hold(ctx, m, m, false)
	if err != nil {
		return false, err
	}
	defer h.Close()
	userns, err := os.Open(h.NSPath("user"))
	if err != nil {
		return false, err
	}
	defer userns.Close()
	tree, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return true, err
	}
	defer unix.Close(tree)
	return true, unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())})
}
