package oci

import (
	"context"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Connect reports the shim's pid and the task's init pid.
func (s *Service) Connect(ctx context.Context, r *task.ConnectRequest) (*task.ConnectResponse, error) {
	resp := &task.ConnectResponse{ShimPid: s.ownPid}
	if c, err := s.container(r.GetId()); err == nil {
		resp.TaskPid = uint32(c.init.getPid())
	}
	return resp, nil
}
