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

	"github.com/runlet/runlet/daemon/failpoint"
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

// Start starts a created container. Starting a running one succeeds (a
// retried call whose first attempt started it); concurrent calls wait for
// the first.
func (s *Service) Start(ctx context.Context, id string) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := s.get(id)
	if err != nil {
		return err
	}
	if c.State == Running {
		return nil
	}
	if c.State != Created {
		return fmt.Errorf("container %q is %s: %w", id, c.State, errdefs.ErrFailedPrecondition)
	}
	t, err := s.taskOf(&c)
	if err != nil {
		return err
	}
	sb := s.podOf(&c)
	if err := s.hooks().StartContainer(ctx, sb, &c); err != nil {
		return err
	}
	resp, err := t.Start(ctx, &task.StartRequest{Id: id})
	if err != nil {
		return fmt.Errorf("start container %q: %w", id, err)
	}
	failpoint.Hit(failpoint.CtrTaskStarted)
	if err := s.started(id, resp.GetPid()); err != nil {
		return err
	}
	if c, err := s.get(id); err == nil {
		s.hooks().PostStartContainer(ctx, sb, &c)
	}
	return nil
}

// started records that a created container's task runs with pid.
func (s *Service) started(id string, pid uint32) error {
	err := s.update(id, func(c *Container) bool {
		if !c.moveTo(Running) {
			return false // it exited meanwhile
		}
		c.Pid, c.StartedAt = pid, time.Now().UnixNano()
		return true
	})
	if err == nil {
		s.emit(id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	}
	return err
}

// Stop stops a container: its stop signal (the image's, else SIGTERM),
// then SIGKILL after timeout. A stopped or unknown container is fine;
// concurrent calls wait for the first.
func (s *Service) Stop(ctx context.Context, id string, timeout time.Duration) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.stop(ctx, id, timeout); err != nil {
		return err
	}
	s.nriStopped(ctx, id)
	return nil
}

// stop is Stop under the container's lock.
func (s *Service) stop(ctx context.Context, id string, timeout time.Duration) error {
	c, err := s.get(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil || c.State == Exited {
		return err
	}
	t, err := s.taskOf(&c)
	if err != nil {
		s.markGone(ctx, &c, "")
		return nil
	}
	if c.State == Running && timeout > 0 {
		if s.signalAndWait(ctx, t, id, stopSignal(c.StopSignal), timeout) {
			return nil
		}
	}
	if s.signalAndWait(ctx, t, id, unix.SIGKILL, time.Minute) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stop container %q: %w", id, err)
	}
	return fmt.Errorf("container %q did not exit after SIGKILL: %w", id, errdefs.ErrUnavailable)
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
	failpoint.Hit(failpoint.CtrKilled)
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
// the pod has no task left); the exit stays in runletd's record. It waits
// for a call in progress on the container (a RemoveContainer deletes the
// bundle the shim's delete works in).
func (s *Service) deleteTask(ctx context.Context, id string) {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return
	}
	defer unlock()
	c, err := s.get(id)
	if err != nil || c.State != Exited {
		return
	}
	t, err := s.taskOf(&c)
	if err != nil {
		return
	}
	if _, err := t.Delete(ctx, &task.DeleteRequest{Id: id}); err != nil && !errdefs.IsNotFound(err) && !errors.Is(err, ttrpc.ErrClosed) {
		slog.Warn("delete the task of an exited container", "id", id, "error", err)
	}
}

// TaskExited records an exit the pod's shim reported and deletes the
// task, off the event's own call.
func (s *Service) TaskExited(id string, code int32, at int64) {
	s.Exited(id, code, at)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		s.deleteTask(ctx, id)
	}()
}

// shimDiedReason is the reason of a container whose pod's shim died.
const shimDiedReason = "ShimDied"

// markGone records a container whose pod's shim is gone as killed, after
// the shim's `delete` force-deleted its task (and killed what was left of
// it), as containerd does for a dead shim.
func (s *Service) markGone(ctx context.Context, c *Container, message string) {
	h, err := s.o.Pods.Handler(s.handlerOf(c))
	if err == nil {
		if _, err := s.o.Shims.Cleanup(ctx, h, c.ID, c.Bundle); err != nil {
			slog.Warn("delete the task of a dead shim", "id", c.ID, "error", err)
		}
	}
	if message == "" {
		message = "the shim serving the container's pod is gone; the container was killed"
	}
	s.exited(c.ID, exitKilled, time.Now().UnixNano(), shimDiedReason, message)
}

// ShimDied handles the death of a pod's shim for its containers: each
// live one is cleaned up with the shim's `delete` and recorded exited.
func (s *Service) ShimDied(ctx context.Context, sandboxID string) {
	for _, id := range s.inPod(sandboxID) {
		unlock, err := s.lock(ctx, id)
		if err != nil {
			return
		}
		if c, err := s.get(id); err == nil && c.State != Exited {
			s.markGone(ctx, &c, "the shim serving the container's pod exited unexpectedly; the container was killed")
		}
		unlock()
	}
}

func (s *Service) handlerOf(c *Container) string {
	sb, err := s.o.Pods.Get(c.SandboxID)
	if err != nil {
		return ""
	}
	return sb.Handler
}

// exitKilled is the exit code of a process SIGKILL ended (128 + 9).
const exitKilled = 137

// Exited records a container's exit (from the shim's event or Wait); the
// first record wins.
func (s *Service) Exited(id string, code int32, at int64) {
	s.exited(id, code, at, "", "")
}

// exited records an exit with reason and message ("" reason: the usual
// one for the exit code and OOM kill).
func (s *Service) exited(id string, code int32, at int64, reason, message string) {
	moved := false
	_ = s.update(id, func(c *Container) bool {
		if !c.moveTo(Exited) {
			return false
		}
		c.ExitCode, c.FinishedAt = code, at
		c.Reason, c.Message = reason, message
		if reason == "" {
			c.Reason = exitReason(c)
		}
		moved = true
		return true
	})
	if moved {
		s.emit(id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
		// NRI plugins hear of the exit off the caller (a shim's event).
		go s.nriStopped(context.Background(), id)
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
		if c.State == Exited && c.Reason != shimDiedReason {
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

// Remove removes a container, killing it first; unknown is fine, and
// concurrent calls wait for the first.
func (s *Service) Remove(ctx context.Context, id string) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := s.get(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.stop(ctx, id, 0); err != nil {
		return err
	}
	if err := s.deleteTaskOf(ctx, &c); err != nil {
		return err
	}
	failpoint.Hit(failpoint.CtrTaskDeleted)
	if c, err := s.get(id); err == nil {
		s.hooks().RemoveContainer(ctx, s.podOf(&c), &c)
	}
	s.dropIO(id)
	if err := s.removeFiles(ctx, &c); err != nil {
		return err
	}
	failpoint.Hit(failpoint.CtrFilesRemoved)
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
