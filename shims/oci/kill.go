package oci

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Kill signals a process; with All, every process of the task.
func (s *Service) Kill(ctx context.Context, r *task.KillRequest) (*emptypb.Empty, error) {
	p, err := s.process(r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	if st := p.getState(); st == stopped || st == deleted || p.hasExited() {
		return nil, finished
	}
	switch {
	case p.isInit() && r.GetAll():
		err = s.killInit(ctx, p, int(r.GetSignal()), true)
	case p.isInit():
		err = s.signalInit(ctx, p, unix.Signal(r.GetSignal()))
	default:
		err = killExec(p, unix.Signal(r.GetSignal()))
	}
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *Service) killInit(ctx context.Context, p *process, sig int, all bool) error {
	c := p.c
	err := c.runtime.Kill(ctx, c.id, sig, &runc.KillOpts{All: all})
	if err == nil {
		return nil
	}
	err = runtimeError(c.bundle, "kill", err)
	if isNotRunning(err) || p.hasExited() {
		return finished
	}
	return err
}

// signalInit signals the init process through its pidfd: the same
// kill(2) `runtime kill` makes, without starting the runtime. Without a
// pidfd the runtime does it.
func (s *Service) signalInit(ctx context.Context, p *process, sig unix.Signal) error {
	ok, err := p.signal(sig)
	if !ok {
		return s.killInit(ctx, p, int(sig), false)
	}
	if err == unix.ESRCH {
		return finished
	}
	if err != nil {
		return fmt.Errorf("signal task %q: %w", p.c.id, err)
	}
	return nil
}

// killExec signals an exec process through its pidfd.
func killExec(p *process, sig unix.Signal) error {
	ok, err := p.signal(sig)
	if !ok {
		return fmt.Errorf("exec %q has not started: %w", p.execID, errdefs.ErrFailedPrecondition)
	}
	if err == unix.ESRCH {
		return finished
	}
	if err != nil {
		return fmt.Errorf("kill exec %q: %w", p.execID, err)
	}
	return nil
}
