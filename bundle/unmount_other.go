//go:build !linux

package bundle

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
)

// UnmountAll is only implemented on Linux.
func UnmountAll(ctx context.Context, target string) error {
	return fmt.Errorf("unmount %s: %w", target, errdefs.ErrNotImplemented)
}
