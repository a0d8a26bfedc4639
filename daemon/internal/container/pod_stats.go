package container

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodStats reports a pod's usage: its pause task and running containers
// summed, and each container's own stats.
func (s *Service) PodStats(ctx context.Context, sandboxID string) (*runtimeapi.PodSandboxStats, error) {
	sb, err := s.o.Pods.Get(sandboxID)
	if err != nil {
		return nil, err
	}
	cfg, err := sb.CRIConfig()
	if err != nil {
		return nil, err
	}
	var total usage
	if p, err := s.o.Shims.Pod(sandboxID); err == nil {
		if u, err := taskUsage(ctx, p.Task(), sandboxID); err == nil {
			total = u
		}
	}
	ctrs := s.ListStats(ctx, &runtimeapi.ContainerStatsFilter{PodSandboxId: sandboxID})
	for _, c := range ctrs {
		total.cpuNanos += c.GetCpu().GetUsageCoreNanoSeconds().GetValue()
		total.workingSet += c.GetMemory().GetWorkingSetBytes().GetValue()
		total.memUsage += c.GetMemory().GetUsageBytes().GetValue()
	}
	now := time.Now().UnixNano()
	return &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{Id: sandboxID, Metadata: cfg.GetMetadata(), Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations()},
		Linux: &runtimeapi.LinuxPodSandboxStats{
			Cpu: &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: total.cpuNanos}},
			Memory: &runtimeapi.MemoryUsage{Timestamp: now, WorkingSetBytes: &runtimeapi.UInt64Value{Value: total.workingSet},
				UsageBytes: &runtimeapi.UInt64Value{Value: total.memUsage}},
			Containers: ctrs,
		},
	}, nil
}

// ListPodStats reports every ready pod matching f.
func (s *Service) ListPodStats(ctx context.Context, f *runtimeapi.PodSandboxStatsFilter) []*runtimeapi.PodSandboxStats {
	filter := &runtimeapi.PodSandboxFilter{Id: f.GetId(), LabelSelector: f.GetLabelSelector(),
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	var out []*runtimeapi.PodSandboxStats
	for _, p := range s.o.Pods.List(filter) {
		if st, err := s.PodStats(ctx, p.Id); err == nil {
			out = append(out, st)
		}
	}
	return out
}
