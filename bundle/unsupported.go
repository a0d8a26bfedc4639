//go:build !linux

package bundle

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MountAll is only implemented on Linux.
func MountAll(ctx context.Context, mounts []Mount, target string) error {
	return fmt.Errorf("mount rootfs at %s: %w", target, errdefs.ErrNotImplemented)
}

// UnmountAll is only implemented on Linux.
func UnmountAll(ctx context.Context, target string) error {
	return fmt.Errorf("unmount %s: %w", target, errdefs.ErrNotImplemented)
}

// ClampOOMScoreAdj is only implemented on Linux.
func ClampOOMScoreAdj(spec *specs.Spec) error {
	return fmt.Errorf("clamp oom_score_adj: %w", errdefs.ErrNotImplemented)
}

// EnsureHugetlbV1 is only implemented on Linux.
func EnsureHugetlbV1(ctx context.Context) error {
	return fmt.Errorf("hybrid cgroups: %w", errdefs.ErrNotImplemented)
}
