package oci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

// deleteExitTimeout bounds the wait for a created process killed by Delete.
const deleteExitTimeout = 10 * time.Second

// Delete removes a stopped (or never started) process. For an init
// process it removes the task from the runtime, unmounts its rootfs and
// reports /tasks/delete.
//
// Concurrent Deletes of one process run one at a time: the first deletes
// it, the others find it deleted (NotFound). A running process is
// FailedPrecondition.
func (s *Service) Delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	p, unlock, err := s.lockProcess(ctx, r.GetId(), r.GetExecId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := p.check("delete"); err != nil {
		return nil, err
	}
	if p.isInit() {
		return s.deleteInit(ctx, p)
	}
	return s.deleteExec(ctx, p)
}

func (s *Service) deleteExec(ctx context.Context, p *process) (*task.DeleteResponse, error) {
	p.markDeleted()
	p.c.removeExec(p.execID)
	if pio := p.getIO(); pio != nil {
		pio.close()
	}
	if err := os.Remove(execPidFile(p.c, p.execID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		slog.Warn("remove an exec's pid file", "exec", p.execID, "error", err)
	}
	return deleteResponse(p), nil
}

func (s *Service) deleteInit(ctx context.Context, p *process) (*task.DeleteResponse, error) {
	c := p.c
	if c.liveExecCount() > 0 {
		return nil, fmt.Errorf("task %q has running exec processes: %w", c.id, errdefs.ErrFailedPrecondition)
	}
	c.forceDelete(ctx)
	if err := c.awaitCgroup(ctx); err != nil {
		return nil, err
	}
	if err := s.awaitExit(ctx, p); err != nil {
		return nil, err
	}
	if err := s.unmountRootfs(ctx, c); err != nil {
		return nil, err
	}
	if pio := p.getIO(); pio != nil {
		pio.close()
	}
	p.markDeleted()
	s.oom.remove(c.id)
	resp := deleteResponse(p)
	// Published before the task leaves the map: a Shutdown racing with
	// this Delete then still sees a task and keeps the shim (and its
	// event publisher) up.
	s.publish(TopicTaskDelete, &events.TaskDelete{
		ContainerId: c.id, Id: c.id, Pid: resp.Pid, ExitStatus: resp.ExitStatus, ExitedAt: resp.ExitedAt,
	})
	s.release(c.id)
	return resp, nil
}

// awaitExit waits for the exit of a process that Delete killed before it
// ever started; a stopped process returns at once.
func (s *Service) awaitExit(ctx context.Context, p *process) error {
	if p.getPid() == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, deleteExitTimeout)
	defer cancel()
	if err := p.wait(ctx); err != nil {
		return fmt.Errorf("wait for the exit of task %q: %w", p.c.id, err)
	}
	return nil
}

func deleteResponse(p *process) *task.DeleteResponse {
	_, pid, status, at := p.snapshot()
	return &task.DeleteResponse{Pid: uint32(pid), ExitStatus: uint32(status), ExitedAt: timestamppb.New(at)}
}

// unmountRootfs unmounts what Create mounted; a rootfs the caller
// prepared itself is left alone.
func (s *Service) unmountRootfs(ctx context.Context, c *container) error {
	if len(c.rootfs) == 0 {
		return nil
	}
	if err := bundle.UnmountAll(ctx, bundle.RootfsPath(c.bundle)); err != nil {
		return fmt.Errorf("unmount rootfs: %w", err)
	}
	return nil
}
