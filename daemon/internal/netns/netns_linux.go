package netns

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/bundle"
)

// NetNS is a network namespace pinned by a bind mount at a path.
type NetNS struct {
	path string // immutable
}

// New creates a network namespace with its loopback interface up and pins
// it at dir/id. dir must be absolute and is created with mode 0700 when
// missing. An id that is not a valid identifier, or a relative dir, is
// errdefs.ErrInvalidArgument; an id already pinned in dir is
// errdefs.ErrAlreadyExists. On failure nothing is left behind.
func New(ctx context.Context, dir, id string) (*NetNS, error) {
	if err := bundle.ValidateID(id); err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("netns: state dir %q is not absolute: %w", dir, errdefs.ErrInvalidArgument)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("netns: create %s: %w", id, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("netns: create state dir %s: %w", dir, err)
	}
	n := &NetNS{path: filepath.Join(dir, id)}
	if err := createMountPoint(n.path); err != nil {
		return nil, err
	}
	if err := pinNewNamespace(n.path); err != nil {
		if rerr := n.Remove(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return n, nil
}

// Load returns the namespace pinned at path. A missing path is
// errdefs.ErrNotFound; a path that is not a network namespace is
// errdefs.ErrInvalidArgument.
func Load(path string) (*NetNS, error) {
	if err := checkNetNS(path); err != nil {
		return nil, err
	}
	return &NetNS{path: path}, nil
}

// Path is where the namespace is pinned: the value for CNI_NETNS and for the
// OCI spec's network namespace path.
func (n *NetNS) Path() string {
	return n.path
}

// Remove unpins the namespace and deletes its file. It succeeds when the
// namespace is still in use (the kernel frees it once unused) and when it
// was already removed.
func (n *NetNS) Remove(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("netns: remove %s: %w", n.path, err)
	}
	if err := unmountAll(n.path); err != nil {
		return err
	}
	if err := os.Remove(n.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: remove %s: %w", n.path, err)
	}
	return nil
}

// Remove unpins and deletes dir/id, the namespace New(ctx, dir, id) made,
// without requiring it to still be a namespace: it also clears the empty
// file that a crash between New's or Remove's steps can leave, which Load
// refuses. It is idempotent; an invalid id is errdefs.ErrInvalidArgument.
func Remove(ctx context.Context, dir, id string) error {
	if err := bundle.ValidateID(id); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	n := &NetNS{path: filepath.Join(dir, id)}
	return n.Remove(ctx)
}

// createMountPoint makes the empty file the namespace is bind-mounted onto.
func createMountPoint(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("netns: %s: %w", path, errdefs.ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("netns: create %s: %w", path, err)
	}
	return f.Close()
}

// maxStackedMounts bounds the unmount loop; a path only ever carries one
// mount from New, more would mean someone else stacked mounts on it.
const maxStackedMounts = 16

// unmountAll detaches every mount stacked on path; a path that is not a
// mount point, or does not exist, is fine.
func unmountAll(path string) error {
	for range maxStackedMounts {
		err := unix.Unmount(path, unix.MNT_DETACH)
		switch {
		case err == nil:
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("netns: unmount %s: %w", path, err)
		}
	}
	return fmt.Errorf("netns: %s still mounted after %d unmounts: %w", path, maxStackedMounts, errdefs.ErrFailedPrecondition)
}

// checkNetNS reports whether path is an nsfs file of a network namespace.
func checkNetNS(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: %s: %w", path, errdefs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", path, err)
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("netns: statfs %s: %w", path, err)
	}
	if st.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("netns: %s is not a namespace file: %w", path, errdefs.ErrInvalidArgument)
	}
	kind, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("netns: namespace type of %s: %w", path, err)
	}
	if kind != unix.CLONE_NEWNET {
		return fmt.Errorf("netns: %s is not a network namespace: %w", path, errdefs.ErrInvalidArgument)
	}
	return nil
}
