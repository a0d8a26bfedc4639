package idmap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/bundle"
)

// Stager makes id-mapped clones of mounts under one directory, all with
// the mappings of one user namespace.
type Stager struct {
	dir    string
	userns *os.File
	n      int // staged so far; not safe for concurrent use
}

// NewStager stages under dir (created 0711) with the user namespace at
// usernsPath (a /proc/<pid>/ns/user or a pinned nsfs file).
func NewStager(dir, usernsPath string) (*Stager, error) {
	f, err := os.Open(usernsPath)
	if err != nil {
		return nil, fmt.Errorf("idmap: open the user namespace: %w", err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		f.Close()
		return nil, fmt.Errorf("idmap: staging dir: %w", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		f.Close()
		return nil, fmt.Errorf("idmap: staging dir: %w", err)
	}
	return &Stager{dir: dir, userns: f}, nil
}

// Close releases the user namespace descriptor; staged mounts stay.
func (s *Stager) Close() error { return s.userns.Close() }

// Bind attaches an id-mapped clone of the mount tree at src (its submounts
// too when recursive) at a new path under the staging dir and returns it.
func (s *Stager) Bind(src string, recursive bool) (string, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return "", fmt.Errorf("idmap: %w", err)
	}
	point := filepath.Join(s.dir, strconv.Itoa(s.n))
	s.n++
	if err := mountPoint(point, fi.IsDir()); err != nil {
		return "", err
	}
	if err := cloneIDMapped(src, point, int(s.userns.Fd()), recursive); err != nil {
		return "", errors.Join(err, os.Remove(point))
	}
	return point, nil
}

func mountPoint(point string, dir bool) error {
	if dir {
		if err := os.Mkdir(point, 0o711); err != nil {
			return fmt.Errorf("idmap: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(point, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("idmap: %w", err)
	}
	return f.Close()
}

// cloneIDMapped: open_tree(OPEN_TREE_CLONE) gives a detached copy of the
// mount, the only kind mount_setattr may id-map; move_mount attaches it.
func cloneIDMapped(src, point string, usernsFd int, recursive bool) error {
	flags, setFlags := uint(unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC), uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
		setFlags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		return fmt.Errorf("idmap: clone %s: %w", src, err)
	}
	defer unix.Close(tree)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFd)}
	if err := unix.MountSetattr(tree, "", setFlags, attr); err != nil {
		return fmt.Errorf("idmap: id-map %s (does its filesystem support id-mapped mounts?): %w", src, err)
	}
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, point, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("idmap: attach the id-mapped %s: %w", src, err)
	}
	return nil
}

// Release detaches everything staged and removes the staging dir.
func (s *Stager) Release(ctx context.Context) error {
	return Release(ctx, s.dir)
}

// Release detaches every mount under a staging dir and removes it; a dir
// that is gone is fine.
func Release(ctx context.Context, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := bundle.UnmountAll(ctx, dir); err != nil {
		return fmt.Errorf("idmap: release %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("idmap: release %s: %w", dir, err)
	}
	return nil
}
