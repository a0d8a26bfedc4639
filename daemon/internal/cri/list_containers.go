package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListContainers lists the containers matching the filter.
func (s *Server) ListContainers(ctx context.Context, req *runtime.ListContainersRequest) (*runtime.ListContainersResponse, error) {
	ctrs := s.runtime.Containers
	return &runtime.ListContainersResponse{Containers: ctrs.List(req.GetFilter())}, nil
}
