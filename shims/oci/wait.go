package oci

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Wait blocks until the process exits (its output drained) or ctx ends.
func (s *Service) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	p, err := s.process(r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	if err := p.wait(ctx); err != nil {
		return nil, fmt.Errorf("wait for %q: %w", p.publicID(), err)
	}
	_, _, status, at := p.snapshot()
	return &task.WaitResponse{ExitStatus: uint32(status), ExitedAt: timestamppb.New(at)}, nil
}
