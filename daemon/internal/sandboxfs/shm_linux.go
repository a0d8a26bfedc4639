package sandboxfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/bundle"
)

// mountShm mounts the pod's private /dev/shm: a tmpfs of ShmSize,
// nosuid, nodev, noexec, as containerd's.
func (f *Files) mountShm() error {
	shm := filepath.Join(f.Dir, "shm")
	if err := os.Mkdir(shm, 0o700); err != nil {
		return fmt.Errorf("shm directory: %w", err)
	}
	data := fmt.Sprintf("mode=1777,size=%d", ShmSize)
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data); err != nil {
		return fmt.Errorf("mount pod shm: %w", err)
	}
	f.ShmPath = shm
	return nil
}

// Remove unmounts the pod's shm and removes its directory; idempotent.
func (f *Files) Remove(ctx context.Context) error {
	if err := bundle.UnmountAll(ctx, f.Dir); err != nil {
		return fmt.Errorf("unmount sandbox files: %w", err)
	}
	if err := os.RemoveAll(f.Dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove sandbox directory: %w", err)
	}
	return nil
}
