package oci

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Start starts a created init process or exec process. Concurrent Starts
// of one process run one at a time: the first starts it, the others find
// it no longer created (FailedPrecondition).
func (s *Service) Start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	p, unlock, err := s.lockProcess(ctx, r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := p.check("start"); err != nil {
		return nil, err
	}
	if p.isInit() {
		return s.startInit(ctx, p)
	}
	return s.startExec(ctx, p)
}

func (s *Service) startInit(ctx context.Context, p *process) (*task.StartResponse, error) {
	c := p.c
	// OOM events must be watched before the process can allocate.
	if err := c.awaitCgroup(ctx); err != nil {
		return nil, err
	}
	defer p.beginStart()()
	if err := c.runtime.Start(ctx, c.id); err != nil {
		return nil, startError(c, err)
	}
	p.setState(running)
	pid := p.getPid()
	s.publish(TopicTaskStart, &events.TaskStart{ContainerId: c.id, Pid: uint32(pid)})
	return &task.StartResponse{Pid: uint32(pid)}, nil
}

// startError classifies a failed `runtime start`: an init killed before
// its Start (a racing Kill) is a precondition that no longer holds. runc
// says "cannot start a container that has stopped", crun "is not running".
func startError(c *container, err error) error {
	err = runtimeError(c.bundle, "start", err)
	if strings.Contains(err.Error(), "container that has stopped") || isNotRunning(err) {
		return fmt.Errorf("task %q exited before it started: %w: %w", c.id, err, errdefs.ErrFailedPrecondition)
	}
	return err
}
