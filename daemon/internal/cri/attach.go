package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Attach answers with the one-time URL of a streaming session joined to a
// running container's stdio.
func (s *Server) Attach(ctx context.Context, req *runtime.AttachRequest) (*runtime.AttachResponse, error) {
	if req.GetContainerId() == "" {
		return nil, fmt.Errorf("container_id is required: %w", errdefs.ErrInvalidArgument)
	}
	ctrs := s.runtime.Containers
	srv := s.runtime.Streaming
	if err := ctrs.CheckAttach(req.GetContainerId(), req.GetStdin(), req.GetTty()); err != nil {
		return nil, err
	}
	return srv.GetAttach(req)
}
