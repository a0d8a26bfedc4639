package container

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"

	"github.com/runlet/runlet/bundle"
	task "github.com/runlet/runlet/proto/task/v2"
)

// teardown removes everything a container's record says it may have
// made, whether or not it was made: its task, the daemon's side of its
// stdio, its files. Every step is idempotent, so it serves a failed
// CreateContainer and a crashed one found at start.
func (s *Service) teardown(ctx context.Context, c *Container) error {
	if err := s.deleteTaskOf(ctx, c); err != nil {
		return err
	}
	s.dropIO(c.ID)
	return s.removeFiles(ctx, c)
}

// deleteTaskOf kills and deletes a container's task in its pod's shim;
// a task that is not there, or a shim that is gone, is fine.
func (s *Service) deleteTaskOf(ctx context.Context, c *Container) error {
	t, err := s.taskOf(c)
	if err != nil {
		return s.cleanupGoneTask(ctx, c)
	}
	if _, err := t.Kill(ctx, &task.KillRequest{Id: c.ID, Signal: 9, All: true}); err == nil {
		_, _ = t.Wait(ctx, &task.WaitRequest{Id: c.ID})
	}
	_, err = t.Delete(ctx, &task.DeleteRequest{Id: c.ID})
	if err != nil && !errdefs.IsNotFound(err) && !errors.Is(err, ttrpc.ErrClosed) {
		return fmt.Errorf("delete container task %q: %w", c.ID, err)
	}
	return nil
}

// cleanupGoneTask is deleteTaskOf when the pod's shim is not connected:
// one recovery could not reach is left for a later try (an error keeps
// the record); otherwise the shim is gone and its `delete` force-deletes
// what the runtime may still hold of the task (a created one's waiting
// init, its cgroup).
func (s *Service) cleanupGoneTask(ctx context.Context, c *Container) error {
	if s.o.Pods.ShimUnreachable(c.SandboxID) {
		return fmt.Errorf("container %q: its pod's shim could not be reached: %w", c.ID, errdefs.ErrUnavailable)
	}
	if _, err := os.Stat(bundle.ConfigPath(c.Bundle)); err != nil {
		return nil // no task was ever created from this bundle
	}
	h, err := s.o.Pods.Handler(s.handlerOf(c))
	if err != nil {
		return nil // the pod and its handler are gone: nothing to run
	}
	if _, err := s.o.Shims.Cleanup(ctx, h, c.ID, c.Bundle); err != nil {
		slog.Warn("delete the task of a gone shim", "id", c.ID, "error", err)
	}
	return nil
}

// removeFiles removes a container's bundle, image volumes, declared
// volumes, rootfs snapshot and FIFO directory; each derives from its id.
func (s *Service) removeFiles(ctx context.Context, c *Container) error {
	b := &bundle.Bundle{Path: c.Bundle, ID: c.ID}
	if err := b.Delete(ctx); err != nil {
		return err
	}
	if err := s.releaseImageVolumes(ctx, c.ID); err != nil {
		return err
	}
	if err := s.removeVolumes(c.ID); err != nil {
		return err
	}
	if err := s.o.Snapshots.Remove(ctx, c.ID); err != nil {
		return err
	}
	if c.FIFODir == "" {
		return nil
	}
	if err := os.RemoveAll(c.FIFODir); err != nil {
		return fmt.Errorf("remove the fifos of %s: %w", c.ID, err)
	}
	return nil
}
