package bundle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

const (
	// unmountRounds bounds how often UnmountAll rereads the mount table.
	unmountRounds = 32
	// busyRetries and busyDelay bound the wait for a busy mount before it is
	// lazily detached.
	busyRetries = 10
	busyDelay   = 50 * time.Millisecond
)

// UnmountAll unmounts everything mounted at or below target, deepest and
// newest first, including mounts stacked on the same mount point. A busy
// mount is retried for a while, then detached (MNT_DETACH). A target that
// does not exist or holds no mount is not an error, so UnmountAll is
// idempotent.
func UnmountAll(ctx context.Context, target string) error {
	root, err := resolveTarget(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for range unmountRounds {
		points, err := mountPointsUnder(root)
		if err != nil || len(points) == 0 {
			return err
		}
		for _, p := range points {
			if err := unmountOne(ctx, p); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unmount %s: mounts remain after %d rounds: %w", root, unmountRounds, errdefs.ErrFailedPrecondition)
}

// resolveTarget returns target as the kernel names it in mountinfo.
func resolveTarget(target string) (string, error) {
	if !filepath.IsAbs(target) {
		return "", fmt.Errorf("unmount %q: path is not absolute: %w", target, errdefs.ErrInvalidArgument)
	}
	root, err := filepath.EvalSymlinks(target)
	if err != nil {
		return "", err
	}
	if root == "/" {
		return "", fmt.Errorf("unmount: refusing to unmount everything below /: %w", errdefs.ErrInvalidArgument)
	}
	return root, nil
}

// mountPointsUnder lists the mount points at or below root, deepest first
// and, on the same depth, newest first.
func mountPointsUnder(root string) ([]string, error) {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(root))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	points := make([]string, 0, len(infos))
	for i := len(infos) - 1; i >= 0; i-- {
		points = append(points, infos[i].Mountpoint)
	}
	slices.SortStableFunc(points, func(a, b string) int {
		return strings.Count(b, "/") - strings.Count(a, "/")
	})
	return points, nil
}

// unmountOne removes the top mount at path, waiting for a busy mount and
// detaching it as the last resort. "Not mounted" counts as success.
func unmountOne(ctx context.Context, path string) error {
	for range busyRetries {
		err := unmountNoFollow(path, 0)
		if !errors.Is(err, unix.EBUSY) {
			return err
		}
		if err := sleepCtx(ctx, busyDelay); err != nil {
			return err
		}
	}
	return unmountNoFollow(path, unix.MNT_DETACH)
}

func unmountNoFollow(path string, flags int) error {
	for {
		err := unix.Unmount(path, flags|unix.UMOUNT_NOFOLLOW)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil, errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY):
			return err
		case errors.Is(err, unix.EPERM):
			return fmt.Errorf("unmount %s: %w: %w", path, err, errdefs.ErrPermissionDenied)
		default:
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
