package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Exec answers with the one-time URL of a streaming session that runs the
// command in a running container.
func (s *Server) Exec(ctx context.Context, req *runtime.ExecRequest) (*runtime.ExecResponse, error) {
	if req.GetContainerId() == "" {
		return nil, fmt.Errorf("container_id is required: %w", errdefs.ErrInvalidArgument)
	}
	ctrs := s.runtime.Containers
	srv := s.runtime.Streaming
	if err := ctrs.CheckExec(req.GetContainerId(), req.GetCmd()); err != nil {
		return nil, err
	}
	return srv.GetExec(req)
}
