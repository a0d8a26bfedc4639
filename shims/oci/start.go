package oci

import (
	"context"

	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Start starts a created init process or exec process.
func (s *Service) Start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	p, err := s.process(r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
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
	p.beginStart()
	defer p.endStart()
	if err := c.runtime.Start(ctx, c.id); err != nil {
		return nil, runtimeError(c.bundle, "start", err)
	}
	p.setState(running)
	pid := p.getPid()
	s.publish(TopicTaskStart, &events.TaskStart{ContainerId: c.id, Pid: uint32(pid)})
	return &task.StartResponse{Pid: uint32(pid)}, nil
}
