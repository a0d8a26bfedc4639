package container

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/metrics"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// ListPodMetrics reports the metrics of every ready pod: its sandbox's
// (container "POD") with the pod's network, and each running container's.
// A pod whose shim cannot be reached is left out.
func (s *Service) ListPodMetrics(ctx context.Context) []*runtimeapi.PodSandboxMetrics {
	ready := &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	var out []*runtimeapi.PodSandboxMetrics
	for _, p := range s.o.Pods.List(ready) {
		if m, err := s.podMetrics(ctx, p.Id); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func (s *Service) podMetrics(ctx context.Context, id string) (*runtimeapi.PodSandboxMetrics, error) {
	sb, err := s.o.Pods.Get(id)
	if err != nil {
		return nil, err
	}
	cfg, err := sb.CRIConfig()
	if err != nil {
		return nil, err
	}
	p, err := s.o.Shims.Pod(id)
	if err != nil {
		return nil, err
	}
	md := cfg.GetMetadata()
	l := metrics.Labels{Container: "POD", ID: sb.ID, Image: sb.Image, Name: sb.Name, Namespace: md.GetNamespace(), Pod: md.GetName()}
	in, err := s.gather(ctx, p.Task(), taskRef{id: sb.ID, pid: sb.Pid, bundle: sb.Bundle})
	if err != nil {
		return nil, err
	}
	in.Labels, in.StartedAt = l, time.Unix(0, sb.CreatedAt)
	out := &runtimeapi.PodSandboxMetrics{PodSandboxId: id, Metrics: in.Metrics()}
	out.Metrics = append(out.Metrics, podNetwork(&sb, l)...)
	out.ContainerMetrics = s.containerMetrics(ctx, &sb, md)
	return out, nil
}

// podNetwork reads the pod's own network namespace; a host-network pod
// has none of its own to report.
func podNetwork(sb *pod.Sandbox, l metrics.Labels) []*runtimeapi.Metric {
	if sb.NetNS == "" {
		return nil
	}
	ifaces, err := metrics.ReadNetDev(sb.Pid)
	if err != nil {
		return nil
	}
	return metrics.Network(l, ifaces)
}

// containerMetrics reports the pod's running containers.
func (s *Service) containerMetrics(ctx context.Context, sb *pod.Sandbox, md *runtimeapi.PodSandboxMetadata) []*runtimeapi.ContainerMetrics {
	filter := &runtimeapi.ContainerFilter{PodSandboxId: sb.ID,
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}
	var out []*runtimeapi.ContainerMetrics
	for _, e := range s.List(filter) {
		c, t, err := s.liveTask(e.Id)
		if err != nil {
			continue
		}
		in, err := s.gather(ctx, t, taskRef{id: c.ID, pid: c.Pid, bundle: c.Bundle})
		if err != nil {
			continue
		}
		in.Labels = metrics.Labels{Container: e.GetMetadata().GetName(), ID: c.ID, Image: c.Image, Name: c.Name,
			Namespace: md.GetNamespace(), Pod: md.GetName()}
		in.StartedAt = time.Unix(0, c.StartedAt)
		out = append(out, &runtimeapi.ContainerMetrics{ContainerId: c.ID, Metrics: in.Metrics()})
	}
	return out
}
