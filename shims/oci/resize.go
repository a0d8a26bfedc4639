package oci

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// ResizePty resizes the terminal of a process started with one.
func (s *Service) ResizePty(ctx context.Context, r *task.ResizePtyRequest) (*emptypb.Empty, error) {
	p, err := s.process(r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	pio := p.getIO()
	if !p.stdio.terminal || pio == nil {
		return nil, fmt.Errorf("process %q has no terminal: %w", p.publicID(), errdefs.ErrFailedPrecondition)
	}
	if err := pio.resize(r.GetWidth(), r.GetHeight()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
