package specgen

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// LookupInRootfs returns a UserLookup reading rootfs/etc/passwd and
// rootfs/etc/group. Paths are resolved with openat2(RESOLVE_IN_ROOT), as a
// chroot would: a symlink, absolute or with "..", can never leave rootfs,
// and magic links are refused. A missing file counts as empty. An unknown
// user or group name is errdefs.ErrInvalidArgument (the CRI requires
// run_as_username to exist in the image).
func LookupInRootfs(rootfs string) UserLookup {
	return func(user string) (uint32, uint32, []uint32, error) {
		users, err := readInRoot(rootfs, "etc/passwd", parsePasswd)
		if err != nil {
			return 0, 0, nil, err
		}
		groups, err := readInRoot(rootfs, "etc/group", parseGroup)
		if err != nil {
			return 0, 0, nil, err
		}
		return resolveInDB(user, users, groups)
	}
}

// readInRoot opens name inside root without leaving it and parses it; a
// missing file parses as empty.
func readInRoot[T any](root, name string, parse func(io.Reader) ([]T, error)) ([]T, error) {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open rootfs %s: %w", root, err)
	}
	defer unix.Close(rootFd)
	fd, err := unix.Openat2(rootFd, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s in rootfs %s: %w", name, root, &fs.PathError{Op: "openat2", Path: name, Err: err})
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s in rootfs %s is not a regular file: %w", name, root, errdefs.ErrInvalidArgument)
	}
	entries, err := parse(io.LimitReader(f, maxUserDBSize))
	if err != nil {
		return nil, fmt.Errorf("parse %s in rootfs %s: %w: %w", name, root, err, errdefs.ErrInvalidArgument)
	}
	return entries, nil
}

// maxUserDBSize bounds how much of an image's /etc/passwd or /etc/group
// is read: the image is untrusted.
const maxUserDBSize = 16 << 20
