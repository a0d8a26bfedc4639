package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// MountAll mounts mounts, in order, at target (the bundle's rootfs): each at
// target joined with its Target. If one fails, the ones mounted before are
// unmounted again, so a failed MountAll leaves no mount behind.
func MountAll(ctx context.Context, mounts []Mount, target string) (err error) {
	root, err := mountRoot(target)
	if err != nil {
		return err
	}
	var done []string
	defer func() {
		if err != nil {
			err = errors.Join(err, rollback(context.WithoutCancel(ctx), done))
		}
	}()
	for i, m := range mounts {
		if err := ctx.Err(); err != nil {
			return err
		}
		point, err := mountOne(root, m)
		if err != nil {
			return fmt.Errorf("rootfs mount %d (%s %s): %w", i, m.Type, m.Source, err)
		}
		done = append(done, point)
	}
	return nil
}

// rollback unmounts points, newest first.
func rollback(ctx context.Context, points []string) error {
	var errs []error
	for i := len(points) - 1; i >= 0; i-- {
		if err := unmountOne(ctx, points[i]); err != nil {
			errs = append(errs, fmt.Errorf("roll back mount at %s: %w", points[i], err))
		}
	}
	return errors.Join(errs...)
}

func mountRoot(target string) (string, error) {
	if !filepath.IsAbs(target) {
		return "", fmt.Errorf("mount target %q is not absolute: %w", target, errdefs.ErrInvalidArgument)
	}
	root, err := filepath.EvalSymlinks(target)
	if err != nil {
		return "", fmt.Errorf("mount target: %w", classifyFSError(err))
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("mount target %s is not a directory: %w", target, errdefs.ErrInvalidArgument)
	}
	return root, nil
}

// mountPoint resolves sub below root and refuses a result outside root,
// whether through ".." or through symlinks in the rootfs.
func mountPoint(root, sub string) (string, error) {
	if sub == "" {
		return root, nil
	}
	point, err := filepath.EvalSymlinks(filepath.Join(root, filepath.Clean("/"+sub)))
	if err != nil {
		return "", fmt.Errorf("mount point %q: %w", sub, classifyFSError(err))
	}
	if point != root && !strings.HasPrefix(point, root+"/") {
		return "", fmt.Errorf("mount point %q resolves outside the rootfs: %w", sub, errdefs.ErrInvalidArgument)
	}
	return point, nil
}

// mountOne performs one mount and its follow-ups (read-only bind remount,
// propagation change) and returns where it mounted. On error nothing of it
// stays mounted.
func mountOne(root string, m Mount) (string, error) {
	point, err := mountPoint(root, m.Target)
	if err != nil {
		return "", err
	}
	opts, err := parseOptions(m.Options)
	if err != nil {
		return "", err
	}
	if err := mountFresh(m, point, opts); err != nil {
		return "", err
	}
	if err := adjustMount(point, opts); err != nil {
		return "", errors.Join(err, unmountOne(context.Background(), point))
	}
	return point, nil
}

// mountFresh does the mount(2) call that creates the mount.
func mountFresh(m Mount, point string, opts mountOptions) error {
	switch m.Type {
	case "bind", "rbind":
		opts.flags |= unix.MS_BIND
		if m.Type == "rbind" {
			opts.flags |= unix.MS_REC
		}
	case "":
		return fmt.Errorf("mount type is empty: %w", errdefs.ErrInvalidArgument)
	}
	if opts.flags&unix.MS_BIND != 0 {
		// A bind mount ignores its data and per-mount flags; adjustMount
		// applies the flags afterwards.
		return mountErr(unix.Mount(m.Source, point, "", opts.flags&(unix.MS_BIND|unix.MS_REC), ""), m, point)
	}
	data := strings.Join(opts.data, ",")
	if m.Type == "overlay" && len(data) > maxMountData() {
		return mountOverlayCompact(m, point, opts.flags, opts.data)
	}
	return mountErr(unix.Mount(m.Source, point, m.Type, opts.flags, data), m, point)
}

// adjustMount applies what mount(2) cannot do while creating a mount: the
// per-mount flags of a bind mount and the propagation type.
func adjustMount(point string, opts mountOptions) error {
	if opts.flags&unix.MS_BIND != 0 && opts.flags&perMountFlags != 0 {
		if err := setBindFlags(point, opts.flags); err != nil {
			return err
		}
	}
	if opts.propagation != 0 {
		if err := unix.Mount("", point, "", opts.propagation, ""); err != nil {
			return fmt.Errorf("set propagation of %s: %w", point, err)
		}
	}
	return nil
}

func mountErr(err error, m Mount, point string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("mount %s at %s: %w: %w", m.Source, point, err, errdefs.ErrNotFound)
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("mount %s at %s: %w: %w", m.Source, point, err, errdefs.ErrPermissionDenied)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("mount %s at %s: %w: %w", m.Source, point, err, errdefs.ErrInvalidArgument)
	}
	return fmt.Errorf("mount %s at %s: %w", m.Source, point, err)
}
