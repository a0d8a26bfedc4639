package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/bundle"
)

// Pin pins an existing network namespace, from (an nsfs file such as
// /proc/<pid>/ns/net), at dir/id and brings its loopback up: for a pod
// whose namespace must belong to its user namespace, made by a process
// inside it. Arguments and errors are New's; a from that is not a network
// namespace is errdefs.ErrInvalidArgument. On failure nothing is left.
func Pin(ctx context.Context, dir, id, from string) (*NetNS, error) {
	if err := bundle.ValidateID(id); err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("netns: state dir %q is not absolute: %w", dir, errdefs.ErrInvalidArgument)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("netns: pin %s: %w", id, err)
	}
	if err := checkNetNS(from); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("netns: create state dir %s: %w", dir, err)
	}
	n := &NetNS{path: filepath.Join(dir, id)}
	if err := createMountPoint(n.path); err != nil {
		return nil, err
	}
	err := unix.Mount(from, n.path, "none", unix.MS_BIND, "")
	if err != nil {
		err = fmt.Errorf("netns: bind mount %s onto %s: %w", from, n.path, err)
	} else {
		err = n.Do(bringUpLoopback)
	}
	if err != nil {
		if rerr := n.Remove(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return n, nil
}
