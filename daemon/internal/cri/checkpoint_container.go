package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CheckpointContainer writes a checkpoint archive of a running container
// at the request's location (containerd's and CRI-O's format), within the
// request's timeout in seconds when it gives one.
func (s *Server) CheckpointContainer(ctx context.Context, req *runtime.CheckpointContainerRequest) (*runtime.CheckpointContainerResponse, error) {
	ctrs := s.runtime.Containers
	if req.GetTimeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.GetTimeout())*time.Second)
		defer cancel()
	}
	if err := ctrs.Checkpoint(ctx, req.GetContainerId(), req.GetLocation()); err != nil {
		return nil, err
	}
	return &runtime.CheckpointContainerResponse{}, nil
}
