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
	if p.isInit() {
		err = s.killInit(ctx, p, int(r.GetSignal()), r.GetAll())
	} else {
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

// killExec signals an exec process directly: it is the shim's child, and
// an unreaped pid cannot have been reused.
func killExec(p *process, sig unix.Signal) error {
	pid := p.getPid()
	if pid <= 0 {
		return fmt.Errorf("exec %q has not started: %w", p.execID, errdefs.ErrFailedPrecondition)
	}
	if err := unix.Kill(pid, sig); err != nil {
		if err == unix.ESRCH {
			return finished
		}
		return fmt.Errorf("kill exec %q: %w", p.execID, err)
	}
	return nil
}
