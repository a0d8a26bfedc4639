//go:build !linux

package bundle

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
)

// MountAll is only implemented on Linux.
func MountAll(ctx context.Context, mounts []Mount, target string) error {
	return fmt.Errorf("mount rootfs at %s: %w", target, errdefs.ErrNotImplemented)
}
