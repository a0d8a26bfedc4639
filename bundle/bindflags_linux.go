package bundle

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// perMountFlags are the mount(2) flags that belong to a mount rather than to
// its filesystem; a bind mount takes them only through a second call.
const perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// setBindFlags applies the per-mount flags of a bind mount. mount_setattr(2)
// changes only the named attributes (flags the kernel locked on the source
// stay) and, for an rbind, applies them to every submount too. Kernels
// before 5.12 get MS_REMOUNT|MS_BIND instead, which changes the top mount
// only.
func setBindFlags(point string, flags uintptr) error {
	attr, recursive := mountAttrFor(flags)
	atFlags := 0
	if recursive {
		atFlags = unix.AT_RECURSIVE
	}
	err := unix.MountSetattr(-1, point, uint(atFlags), attr)
	if errors.Is(err, unix.ENOSYS) {
		err = unix.Mount("", point, "", unix.MS_REMOUNT|unix.MS_BIND|(flags&perMountFlags), "")
	}
	if err != nil {
		return fmt.Errorf("apply bind mount flags to %s: %w", point, err)
	}
	return nil
}

func mountAttrFor(flags uintptr) (*unix.MountAttr, bool) {
	attr := &unix.MountAttr{}
	for _, f := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if flags&f.ms != 0 {
			attr.Attr_set |= f.attr
		}
	}
	// The access-time mode is one field: set it whole or leave it alone.
	for _, f := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
		{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME},
	} {
		if flags&f.ms != 0 {
			attr.Attr_clr |= unix.MOUNT_ATTR__ATIME
			attr.Attr_set |= f.attr
			break
		}
	}
	return attr, flags&unix.MS_REC != 0
}
