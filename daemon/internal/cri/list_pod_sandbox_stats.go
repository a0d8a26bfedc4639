package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandboxStats reports the ready pods matching the filter.
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtime.ListPodSandboxStatsRequest) (*runtime.ListPodSandboxStatsResponse, error) {
	ctrs, err := s.containers()
	if err != nil {
		return nil, err
	}
	return &runtime.ListPodSandboxStatsResponse{Stats: ctrs.ListPodStats(ctx, req.GetFilter())}, nil
}
