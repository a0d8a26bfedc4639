package oci

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// CloseIO closes a process' stdin once what the client wrote is delivered;
// nothing else ever closes it.
func (s *Service) CloseIO(ctx context.Context, r *task.CloseIORequest) (*emptypb.Empty, error) {
	p, unlock, err := s.lockProcess(ctx, r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if pio := p.getIO(); r.GetStdin() && pio != nil {
		if err := pio.closeStdin(ctx); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}
