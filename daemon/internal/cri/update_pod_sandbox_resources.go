package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdatePodSandboxResources records a resized pod's pod-level resources
// and overhead, told to NRI plugins before and after (kubelet resizes the
// pod's cgroup itself once this succeeds; see pod.Service.UpdateResources).
// An unknown pod is NotFound; a plugin's refusal FailedPrecondition.
func (s *Server) UpdatePodSandboxResources(ctx context.Context, req *runtime.UpdatePodSandboxResourcesRequest) (*runtime.UpdatePodSandboxResourcesResponse, error) {
	pods := s.runtime.Pods
	if err := pods.UpdateResources(ctx, req.GetPodSandboxId(), req.GetOverhead(), req.GetResources()); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "pod resources updated", "pod", req.GetPodSandboxId(),
		"cpu_quota", req.GetResources().GetCpuQuota(), "memory_limit", req.GetResources().GetMemoryLimitInBytes())
	return &runtime.UpdatePodSandboxResourcesResponse{}, nil
}
