package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListContainerStats reports the running containers matching the filter.
func (s *Server) ListContainerStats(ctx context.Context, req *runtime.ListContainerStatsRequest) (*runtime.ListContainerStatsResponse, error) {
	ctrs := s.runtime.Containers
	return &runtime.ListContainerStatsResponse{Stats: ctrs.ListStats(ctx, req.GetFilter())}, nil
}
