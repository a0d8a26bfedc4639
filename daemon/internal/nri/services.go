package nri

import (
	"context"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// Services is the Runtime of runletd's pod and container services.
type Services struct {
	Pods       *pod.Service
	Containers *container.Service
}

func (s Services) ListPods() []pod.Sandbox { return s.Pods.Records() }

func (s Services) ListContainers() []container.Container { return s.Containers.Records() }

func (s Services) UpdateContainer(ctx context.Context, id string, r *specs.LinuxResources) error {
	return s.Containers.ApplyResources(ctx, id, r)
}

// EvictContainer stops the container at once (no grace period), as
// containerd does for an eviction.
func (s Services) EvictContainer(ctx context.Context, id string) error {
	return s.Containers.Stop(ctx, id, 0)
}
