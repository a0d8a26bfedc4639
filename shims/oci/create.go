package oci

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/proto/events"
	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Create creates a task: rootfs mounted at bundle/rootfs, stdio set up,
// the runtime's `create` run. On any failure everything is undone. An id
// in use is AlreadyExists. The task is visible from its reservation on,
// so Create holds the init's op lock throughout: a racing Start waits for
// it, and finds the task gone (NotFound) if Create failed.
func (s *Service) Create(ctx context.Context, r *task.CreateTaskRequest) (_ *task.CreateTaskResponse, err error) {
	c, err := s.newContainer(r)
	if err != nil {
		return nil, err
	}
	if err := s.ensureHost(ctx); err != nil {
		return nil, err
	}
	if err := c.init.ops.lock(ctx); err != nil {
		return nil, err
	}
	defer c.init.ops.unlock()
	if err := s.reserve(c); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.init.markDeleted()
			s.release(c.id)
		}
	}()
	// An init killed right after its creation reports its exit only after
	// /tasks/create.
	defer c.init.beginStart()()
	pid, err := s.createInit(ctx, c, r)
	if err != nil {
		return nil, err
	}
	s.publish(TopicTaskCreate, &events.TaskCreate{
		ContainerId: c.id,
		Bundle:      c.bundle,
		Rootfs:      r.GetRootfs(),
		Io:          &events.TaskIO{Stdin: r.GetStdin(), Stdout: r.GetStdout(), Stderr: r.GetStderr(), Terminal: r.GetTerminal()},
		Checkpoint:  r.GetCheckpoint(),
		Pid:         uint32(pid),
	})
	return &task.CreateTaskResponse{Pid: uint32(pid)}, nil
}

func (s *Service) newContainer(r *task.CreateTaskRequest) (*container, error) {
	if err := bundle.ValidateID(r.GetId()); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(r.GetBundle()) {
		return nil, fmt.Errorf("bundle %q is not an absolute path: %w", r.GetBundle(), errdefs.ErrInvalidArgument)
	}
	opts, err := createOptions(r.GetOptions(), s.cfg.Options)
	if err != nil {
		return nil, err
	}
	rec := recordFor(s.cfg.RuntimeBinary, s.cfg.Namespace, opts)
	c := &container{
		id:      r.GetId(),
		bundle:  r.GetBundle(),
		rootfs:  r.GetRootfs(),
		runtime: newRuntime(r.GetBundle(), rec),
		record:  rec,
		opts:    opts,
		execs:   map[string]*process{},

		cgroupReady: make(chan struct{}),
	}
	sio := stdio{stdin: r.GetStdin(), stdout: r.GetStdout(), stderr: r.GetStderr(), terminal: r.GetTerminal()}
	c.init = newProcess(c, "", sio, nil)
	return c, nil
}

// createOptions decodes the request's runtime options; a request without
// options uses the ones given at start.
func createOptions(a *anypb.Any, fallback *options.Options) (*options.Options, error) {
	if a == nil || len(a.GetValue()) == 0 && a.GetTypeUrl() == "" {
		return fallback, nil
	}
	opts, err := DecodeOptions(a)
	if err != nil {
		return nil, fmt.Errorf("runtime options: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	if opts == nil {
		return fallback, nil
	}
	return opts, nil
}

// createInit prepares the bundle and runs the runtime's create; on failure
// it leaves nothing mounted, running or open.
func (s *Service) createInit(ctx context.Context, c *container, r *task.CreateTaskRequest) (pid int, err error) {
	var undo undoStack
	defer func() {
		if err != nil {
			undo.run(context.WithoutCancel(ctx))
			close(c.cgroupReady)
		}
	}()
	if err := writeRuntimeRecord(c.bundle, c.record); err != nil {
		return 0, err
	}
	undo.push(func(context.Context) { removeRuntimeRecord(c.bundle) })
	if err := prepareSpec(ctx, c); err != nil {
		return 0, err
	}
	if err := s.mountRootfs(ctx, c, &undo); err != nil {
		return 0, err
	}
	pio, err := newProcessIO(s.ctx, ioTarget{c.id, s.cfg.Namespace}, c.init.stdio, c.opts)
	if err != nil {
		return 0, err
	}
	undo.push(func(context.Context) { pio.close() })
	c.init.setIO(pio)
	pid, err = s.runCreate(ctx, c, pio, r.GetCheckpoint(), &undo)
	if err != nil {
		return 0, err
	}
	c.init.setPid(pid)
	go func() {
		s.watchCgroup(c, pid)
		close(c.cgroupReady)
	}()
	return pid, nil
}

func (s *Service) mountRootfs(ctx context.Context, c *container, undo *undoStack) error {
	if len(c.rootfs) == 0 {
		return nil
	}
	rootfs := bundle.RootfsPath(c.bundle)
	if err := bundle.MountAll(ctx, bundle.FromProto(c.rootfs), rootfs); err != nil {
		return fmt.Errorf("mount rootfs: %w", err)
	}
	undo.push(func(ctx context.Context) { _ = bundle.UnmountAll(ctx, rootfs) })
	return nil
}

// runCreate runs `runtime create` and returns the init pid. The exit
// router hears about the pid before any exit of it can be lost.
func (s *Service) runCreate(ctx context.Context, c *container, pio *processIO, checkpoint string, undo *undoStack) (int, error) {
	if checkpoint != "" {
		return s.runRestore(ctx, c, pio, checkpoint, undo)
	}
	pidFile := filepath.Join(c.bundle, "init.pid")
	opts := &runc.CreateOpts{
		IO:           pio.runtimeIO(),
		PidFile:      pidFile,
		NoPivot:      c.opts.GetNoPivotRoot(),
		NoNewKeyring: c.opts.GetNoNewKeyring(),
	}
	if cs := pio.consoleSocket(); cs != nil {
		opts.ConsoleSocket = cs
	}
	return s.startWithPid(ctx, c.init, pio, pidStart{
		op:      "create",
		pidFile: pidFile,
		run:     func() error { return c.runtime.Create(ctx, c.id, c.bundle, opts) },
		started: func() { undo.push(c.forceDelete) },
	})
}
