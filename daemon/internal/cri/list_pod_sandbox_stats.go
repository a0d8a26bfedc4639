package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandboxStats reports the ready pods matching the filter.
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtime.ListPodSandboxStatsRequest) (*runtime.ListPodSandboxStatsResponse, error) {
	ctrs := s.runtime.Containers
	return &runtime.ListPodSandboxStatsResponse{Stats: ctrs.ListPodStats(ctx, req.GetFilter())}, nil
}
