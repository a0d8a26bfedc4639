package oci

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// State reports a process' status, pid, stdio and exit.
func (s *Service) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	p, err := s.process(r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	st, pid, status, at := p.snapshot()
	resp := &task.StateResponse{
		Id:         r.GetId(),
		ExecId:     r.GetExecId(),
		Bundle:     p.c.bundle,
		Pid:        uint32(pid),
		Status:     st.proto(),
		Stdin:      p.stdio.stdin,
		Stdout:     p.stdio.stdout,
		Stderr:     p.stdio.stderr,
		Terminal:   p.stdio.terminal,
		ExitStatus: uint32(status),
	}
	if !at.IsZero() {
		resp.ExitedAt = timestamppb.New(at)
	}
	return resp, nil
}
