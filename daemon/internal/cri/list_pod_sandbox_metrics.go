package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandboxMetrics reports the metrics of every ready pod and its
// running containers.
func (s *Server) ListPodSandboxMetrics(ctx context.Context, req *runtime.ListPodSandboxMetricsRequest) (*runtime.ListPodSandboxMetricsResponse, error) {
	ctrs := s.runtime.Containers
	return &runtime.ListPodSandboxMetricsResponse{PodMetrics: ctrs.ListPodMetrics(ctx)}, nil
}
