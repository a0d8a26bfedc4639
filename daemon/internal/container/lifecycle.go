package container

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
	task "github.com/runlet/runlet/proto/task/v2"
)

// keepIO holds the daemon's side of a container's stdio until removal.
func (s *Service) keepIO(id string, c closer) {
	s.mu.Lock()
	s.io[id] = c
	s.mu.Unlock()
}

func (s *Service) dropIO(id string) {
	s.mu.Lock()
	c := s.io[id]
	delete(s.io, id)
	s.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// taskOf returns the task service of the container's pod.
func (s *Service) taskOf(c *Container) (task.TaskService, error) {
	p, err := s.o.Shims.Pod(c.SandboxID)
	if err != nil {
		return nil, fmt.Errorf("container %q: its pod's shim is gone: %w", c.ID, errdefs.ErrFailedPrecondition)
	}
	return p.Task(), nil
}

// Start starts a created container.
func (s *Service) Start(ctx context.Context, id string) error {
	c, err := s.get(id)
	if err != nil {
		return err
	}
	if c.State != Created {
		return fmt.Errorf("container %q is %s: %w", id, c.State, errdefs.ErrFailedPrecondition)
	}
	t, err := s.taskOf(&c)
	if err != nil {
		return err
	}
	resp, err := t.Start(ctx, &task.StartRequest{Id: id})
	if err != nil {
		return fmt.Errorf("start container %q: %w", id, err)
	}
	err = s.update(id, func(c *Container) bool {
		if !c.moveTo(Running) {
			return false // it exited meanwhile
		}
		c.Pid, c.StartedAt = resp.GetPid(), now()
		return true
	})
	if err == nil {
		s.emit(id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	}
	return err
}

// Stop stops a container: its stop signal (the image's, else SIGTERM),
// then SIGKILL after timeout. A stopped or unknown container is fine.
func (s *Service) Stop(ctx context.Context, id string, timeout time.Duration) error {
	c, err := s.get(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil || c.State == Exited {
		return err
	}
	t, err := s.taskOf(&c)
	if err != nil {
		return s.markGone(ctx, &c)
	}
	if c.State == Running && timeout > 0 {
		if s.signalAndWait(ctx, t, id, stopSignal(c.StopSignal), timeout) {
			return nil
		}
	}
	s.signalAndWait(ctx, t, id, unix.SIGKILL, time.Minute)
	return nil
}

// signalAndWait signals the task and waits up to d for its exit event to
// be recorded.
func (s *Service) signalAndWait(ctx context.Context, t task.TaskService, id string, sig unix.Signal, d time.Duration) bool {
	// SIGKILL of the init ends the container: the kernel kills the rest of
	// its own pid namespace, and shims kill what shares one (runlet's and
	// containerd's both do on the init's exit).
	if _, err := t.Kill(ctx, &task.KillRequest{Id: id, Signal: uint32(sig)}); err != nil && !errdefs.IsNotFound(err) {
		slog.Warn("signal container", "id", id, "signal", sig, "error", err)
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	resp, err := t.Wait(wctx, &task.WaitRequest{Id: id})
	if errdefs.IsNotFound(err) {
		c, gerr := s.get(id)
		return gerr == nil && c.State == Exited // its exit event deleted the task
	}
	if err != nil {
		return false
	}
	s.TaskExited(id, int32(resp.GetExitStatus()), resp.GetExitedAt().AsTime().UnixNano())
	return true
}

// deleteTask deletes an exited container's task from its pod's shim, as
// containerd's CRI does on the exit: the shim forgets it (and exits once
// the pod has no task left); the exit stays in runletd's record.
func (s *Service) deleteTask(ctx context.Context, id string) {
	c, err := s.get(id)
	if err != nil || c.State != Exited {
		return
	}
	t, err := s.taskOf(&c)
	if err != nil {
		return
	}
	if _, err := t.Delete(ctx, &task.DeleteRequest{Id: id}); err != nil && !errdefs.IsNotFound(err) {
		slog.Warn("delete the task of an exited container", "id", id, "error", err)
	}
}

// TaskExited records an exit the pod's shim reported and deletes the
// task, off the event's own call.
func (s *Service) TaskExited(id string, code int32, at int64) {
	s.Exited(id, code, at)
	go s.deleteTask(context.Background(), id)
}

// markGone records a container whose shim is gone as exited, after the
// shim's `delete` cleaned up its task.
func (s *Service) markGone(ctx context.Context, c *Container) error {
	h, err := s.o.Pods.Handler(s.handlerOf(c))
	if err == nil {
		_, _ = s.o.Shims.Cleanup(ctx, h, c.ID, c.Bundle)
	}
	s.Exited(c.ID, 137, now())
	return nil
}

func (s *Service) handlerOf(c *Container) string {
	sb, err := s.o.Pods.Get(c.SandboxID)
	if err != nil {
		return ""
	}
	return sb.Handler
}

// Exited records a container's exit (from the shim's event, Wait, or a
// dead shim's cleanup); the first record wins.
func (s *Service) Exited(id string, code int32, at int64) {
	moved := false
	_ = s.update(id, func(c *Container) bool {
		if !c.moveTo(Exited) {
			return false
		}
		c.ExitCode, c.FinishedAt = code, at
		c.Reason = exitReason(c)
		moved = true
		return true
	})
	if moved {
		s.emit(id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	}
}

// TaskOOM records that the kernel's OOM killer hit the container, before
// or after its exit was recorded (the shim's events race).
func (s *Service) TaskOOM(id string) {
	_ = s.update(id, func(c *Container) bool {
		if c.OOMKilled {
			return false
		}
		c.OOMKilled = true
		if c.State == Exited {
			c.Reason = exitReason(c)
		}
		return true
	})
}

// exitReason is the reason kubelet shows for an exited container.
func exitReason(c *Container) string {
	switch {
	case c.OOMKilled:
		return "OOMKilled"
	case c.ExitCode != 0:
		return "Error"
	default:
		return "Completed"
	}
}

// Remove removes a container, killing it first; unknown is fine.
func (s *Service) Remove(ctx context.Context, id string) error {
	c, err := s.get(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Stop(ctx, id, 0); err != nil {
		return err
	}
	if t, err := s.taskOf(&c); err == nil {
		_, err := t.Delete(ctx, &task.DeleteRequest{Id: id})
		// NotFound: its exit deleted it; closed: the pod's shim is gone,
		// and its tasks with it.
		if err != nil && !errdefs.IsNotFound(err) && !errors.Is(err, ttrpc.ErrClosed) {
			return fmt.Errorf("delete container task %q: %w", id, err)
		}
	}
	s.dropIO(id)
	b := &bundle.Bundle{Path: c.Bundle, ID: c.ID}
	if err := b.Delete(ctx); err != nil {
		return err
	}
	if err := s.releaseImageVolumes(ctx, &c); err != nil {
		return err
	}
	if err := s.removeVolumes(id); err != nil {
		return err
	}
	if err := s.o.Snapshots.Remove(ctx, id); err != nil {
		return err
	}
	s.emit(id, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	return s.forget(&c)
}

// StopAll stops every container of a pod (StopPodSandbox).
func (s *Service) StopAll(ctx context.Context, sandboxID string) error {
	for _, id := range s.inPod(sandboxID) {
		if err := s.Stop(ctx, id, 0); err != nil {
			return err
		}
	}
	return nil
}

// RemoveAll removes every container of a pod (RemovePodSandbox).
func (s *Service) RemoveAll(ctx context.Context, sandboxID string) error {
	for _, id := range s.inPod(sandboxID) {
		if err := s.Remove(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func stopSignal(name string) unix.Signal {
	if sig := unix.SignalNum(name); sig != 0 {
		return sig
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig
	}
	return unix.SIGTERM
}
