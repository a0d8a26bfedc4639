package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ReopenContainerLog reopens a running container's log after rotation.
func (s *Server) ReopenContainerLog(ctx context.Context, req *runtime.ReopenContainerLogRequest) (*runtime.ReopenContainerLogResponse, error) {
	ctrs := s.runtime.Containers
	if err := ctrs.ReopenLog(ctx, req.GetContainerId()); err != nil {
		return nil, err
	}
	return &runtime.ReopenContainerLogResponse{}, nil
}
