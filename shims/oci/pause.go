package oci

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Pause freezes a running task.
func (s *Service) Pause(ctx context.Context, r *task.PauseRequest) (*emptypb.Empty, error) {
	c, unlock, err := s.lockInit(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := c.init.check("pause"); err != nil {
		return nil, err
	}
	if err := c.runtime.Pause(ctx, c.id); err != nil {
		return nil, runtimeError(c.bundle, "pause", err)
	}
	c.init.setState(paused)
	s.publish(TopicTaskPaused, &events.TaskPaused{ContainerId: c.id})
	return &emptypb.Empty{}, nil
}

// Resume thaws a paused task.
func (s *Service) Resume(ctx context.Context, r *task.ResumeRequest) (*emptypb.Empty, error) {
	c, unlock, err := s.lockInit(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := c.init.check("resume"); err != nil {
		return nil, err
	}
	if err := c.runtime.Resume(ctx, c.id); err != nil {
		return nil, runtimeError(c.bundle, "resume", err)
	}
	c.init.setState(running)
	s.publish(TopicTaskResumed, &events.TaskResumed{ContainerId: c.id})
	return &emptypb.Empty{}, nil
}
