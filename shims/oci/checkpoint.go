package oci

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/runlet/runlet/proto/events"
	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Checkpoint dumps a running task with CRIU into r.Path; unless the
// options ask it to exit, the task keeps running.
func (s *Service) Checkpoint(ctx context.Context, r *task.CheckpointTaskRequest) (*emptypb.Empty, error) {
	c, unlock, err := s.lockInit(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st := c.init.getState(); st != running && st != paused {
		return nil, fmt.Errorf("cannot checkpoint a %s task: %w", st, errdefs.ErrFailedPrecondition)
	}
	var o options.CheckpointOptions
	if err := proto.Unmarshal(r.GetOptions().GetValue(), &o); err != nil {
		return nil, fmt.Errorf("checkpoint options: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	opts := checkpointOpts(r.GetPath(), &o)
	var actions []runc.CheckpointAction
	if !o.GetExit() {
		actions = append(actions, runc.LeaveRunning)
	}
	if err := c.runtime.Checkpoint(ctx, c.id, opts, actions...); err != nil {
		return nil, runtimeError(c.bundle, "checkpoint", err)
	}
	s.publish(TopicTaskCheckpointed, &events.TaskCheckpointed{ContainerId: c.id, Checkpoint: opts.ImagePath})
	return &emptypb.Empty{}, nil
}

func checkpointOpts(path string, o *options.CheckpointOptions) *runc.CheckpointOpts {
	image := o.GetImagePath()
	if image == "" {
		image = path
	}
	return &runc.CheckpointOpts{
		ImagePath:                image,
		WorkDir:                  o.GetWorkPath(),
		ParentPath:               o.GetParentPath(),
		AllowOpenTCP:             o.GetOpenTcp(),
		AllowExternalUnixSockets: o.GetExternalUnixSockets(),
		AllowTerminal:            o.GetTerminal(),
		FileLocks:                o.GetFileLocks(),
		EmptyNamespaces:          o.GetEmptyNamespaces(),
		Cgroups:                  runc.CgroupMode(o.GetCgroupsMode()),
	}
}

// runRestore creates the task from a checkpoint with `runtime restore`; the
// task is running when it returns.
func (s *Service) runRestore(ctx context.Context, c *container, pio *processIO, checkpoint string, undo *undoStack) (int, error) {
	pidFile := filepath.Join(c.bundle, "init.pid")
	opts := &runc.RestoreOpts{
		CheckpointOpts: runc.CheckpointOpts{ImagePath: checkpoint, WorkDir: c.opts.GetCriuWorkPath()},
		IO:             pio.runtimeIO(),
		Detach:         true,
		PidFile:        pidFile,
		NoPivot:        c.opts.GetNoPivotRoot(),
	}
	if cs := pio.consoleSocket(); cs != nil {
		opts.ConsoleSocket = cs
	}
	pid, err := s.startWithPid(ctx, c.init, pio, pidStart{
		op:      "restore",
		pidFile: pidFile,
		run: func() error {
			_, err := c.runtime.Restore(ctx, c.id, c.bundle, opts)
			return err
		},
		started: func() { undo.push(c.forceDelete) },
	})
	if err != nil {
		return 0, err
	}
	c.init.setState(running)
	return pid, nil
}
