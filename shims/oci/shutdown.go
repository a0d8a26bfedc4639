package oci

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Shutdown stops the shim once no task remains; otherwise it does nothing,
// as containerd's shims do.
func (s *Service) Shutdown(ctx context.Context, r *task.ShutdownRequest) (*emptypb.Empty, error) {
	if s.count() > 0 {
		return &emptypb.Empty{}, nil
	}
	s.cancel()
	if s.cfg.Shutdown != nil {
		s.cfg.Shutdown()
	}
	return &emptypb.Empty{}, nil
}
