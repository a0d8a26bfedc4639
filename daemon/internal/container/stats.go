package container

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	task "github.com/runlet/runlet/proto/task/v2"
)

// usage is what CRI stats report of a cgroup.
type usage struct {
	cpuNanos, memUsage, workingSet uint64
}

// Stats reports a running container's CPU and memory usage.
func (s *Service) Stats(ctx context.Context, id string) (*runtimeapi.ContainerStats, error) {
	c, t, err := s.liveTask(id)
	if err != nil {
		return nil, err
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	u, err := taskUsage(ctx, t, id)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{Id: c.ID, Metadata: cfg.GetMetadata(), Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations()},
		Cpu:        &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: u.cpuNanos}},
		Memory: &runtimeapi.MemoryUsage{Timestamp: now, WorkingSetBytes: &runtimeapi.UInt64Value{Value: u.workingSet},
			UsageBytes: &runtimeapi.UInt64Value{Value: u.memUsage}},
		WritableLayer: &runtimeapi.FilesystemUsage{Timestamp: now, FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: c.Bundle},
			UsedBytes: &runtimeapi.UInt64Value{}, InodesUsed: &runtimeapi.UInt64Value{}},
	}, nil
}

// ListStats reports the running containers matching f.
func (s *Service) ListStats(ctx context.Context, f *runtimeapi.ContainerStatsFilter) []*runtimeapi.ContainerStats {
	filter := &runtimeapi.ContainerFilter{Id: f.GetId(), PodSandboxId: f.GetPodSandboxId(), LabelSelector: f.GetLabelSelector(),
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}
	var out []*runtimeapi.ContainerStats
	for _, c := range s.List(filter) {
		if st, err := s.Stats(ctx, c.Id); err == nil {
			out = append(out, st)
		}
	}
	return out
}

// taskUsage asks a shim for a task's cgroup metrics (v1 or v2) and reads
// the CPU time and the memory working set (usage less inactive files, as
// kubelet counts it).
func taskUsage(ctx context.Context, t task.TaskService, id string) (usage, error) {
	resp, err := t.Stats(ctx, &task.StatsRequest{Id: id})
	if err != nil {
		return usage{}, fmt.Errorf("stats of %q: %w", id, err)
	}
	return decodeMetrics(resp.GetStats())
}

func decodeMetrics(a *anypb.Any) (usage, error) {
	switch {
	case strings.HasSuffix(a.GetTypeUrl(), "io.containerd.cgroups.v1.Metrics"):
		var m v1.Metrics
		if err := proto.Unmarshal(a.GetValue(), &m); err != nil {
			return usage{}, err
		}
		mem := m.GetMemory().GetUsage().GetUsage()
		return usage{cpuNanos: m.GetCPU().GetUsage().GetTotal(), memUsage: mem,
			workingSet: sub(mem, m.GetMemory().GetTotalInactiveFile())}, nil
	case strings.HasSuffix(a.GetTypeUrl(), "io.containerd.cgroups.v2.Metrics"):
		var m v2.Metrics
		if err := proto.Unmarshal(a.GetValue(), &m); err != nil {
			return usage{}, err
		}
		mem := m.GetMemory().GetUsage()
		return usage{cpuNanos: m.GetCPU().GetUsageUsec() * 1000, memUsage: mem,
			workingSet: sub(mem, m.GetMemory().GetInactiveFile())}, nil
	}
	return usage{}, fmt.Errorf("stats of type %q: %w", a.GetTypeUrl(), errdefs.ErrNotImplemented)
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
