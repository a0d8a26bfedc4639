package specgen

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

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

// resolveInDB implements UserLookup's rules on parsed files.
func resolveInDB(user string, users []passwdEntry, groups []groupEntry) (uint32, uint32, []uint32, error) {
	name, group, hasGroup := strings.Cut(user, ":")
	entry, found, err := findUser(name, users)
	if err != nil {
		return 0, 0, nil, err
	}
	gid := entry.gid
	if hasGroup {
		if gid, err = findGroup(group, groups); err != nil {
			return 0, 0, nil, err
		}
	}
	var members []uint32
	if found {
		for _, g := range groups {
			if slices.Contains(g.members, entry.name) {
				members = append(members, g.gid)
			}
		}
	}
	return entry.uid, gid, members, nil
}

// findUser finds a user by name or uid; a numeric uid without an entry is
// that uid with gid 0.
func findUser(name string, users []passwdEntry) (passwdEntry, bool, error) {
	uid, numErr := strconv.ParseUint(name, 10, 32)
	for _, u := range users {
		if (numErr == nil && u.uid == uint32(uid)) || (numErr != nil && u.name == name) {
			return u, true, nil
		}
	}
	if numErr == nil {
		return passwdEntry{uid: uint32(uid)}, false, nil
	}
	return passwdEntry{}, false, fmt.Errorf("no user %q in the container's /etc/passwd: %w", name, errdefs.ErrInvalidArgument)
}

func findGroup(name string, groups []groupEntry) (uint32, error) {
	if gid, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(gid), nil
	}
	for _, g := range groups {
		if g.name == name {
			return g.gid, nil
		}
	}
	return 0, fmt.Errorf("no group %q in the container's /etc/group: %w", name, errdefs.ErrInvalidArgument)
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
	return parse(f)
}
