package oci

import (
	"context"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Stats returns the task's cgroup metrics as an Any of
// io.containerd.cgroups.v1.Metrics or io.containerd.cgroups.v2.Metrics.
func (s *Service) Stats(ctx context.Context, r *task.StatsRequest) (*task.StatsResponse, error) {
	c, err := s.container(r.GetId())
	if err != nil {
		return nil, err
	}
	if err := c.awaitCgroup(ctx); err != nil {
		return nil, err
	}
	m, err := c.getCgroup().stat()
	if err != nil {
		return nil, err
	}
	a, err := marshalAny(m)
	if err != nil {
		return nil, err
	}
	return &task.StatsResponse{Stats: a}, nil
}
