package container

import (
	"context"
	"log/slog"
	"time"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/cio"

	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// Recover runs once at start, before CRI calls are served, after the pods'
// shims were reconnected. It undoes the containers whose creation a crash
// cut short, and brings the records of the others up to date: a start that
// the crash kept from being recorded, an exit whose event was lost while
// runletd was down (read from the shim), a container whose shim is gone
// (cleaned up and recorded killed). What a create left without a record
// is removed too.
func (s *Service) Recover(ctx context.Context) {
	s.sweep(ctx)
	s.mu.Lock()
	var live []Container
	for _, c := range s.ctrs {
		if c.State != Exited {
			live = append(live, *c)
		}
	}
	s.mu.Unlock()
	for i := 0; i < len(live) && ctx.Err() == nil; i++ {
		s.recoverOne(ctx, &live[i])
	}
}

// recoverOne brings one container up to date, within cleanupTimeout. A
// container of a pod whose shim recovery could not reach is left as
// recorded.
func (s *Service) recoverOne(ctx context.Context, c *Container) {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	if c.State == Creating {
		_ = s.abandon(ctx, c)
		return
	}
	if s.o.Pods.ShimUnreachable(c.SandboxID) {
		return
	}
	s.reattachIO(ctx, c)
	t, err := s.taskOf(c)
	if err != nil {
		s.markGone(ctx, c, "")
		return
	}
	st, err := t.State(ctx, &task.StateRequest{Id: c.ID})
	switch {
	case errdefs.IsNotFound(err):
		s.exited(c.ID, exitKilled, time.Now().UnixNano(), "", "its task was gone when runletd restarted")
	case err != nil:
		slog.Warn("container state after restart", "id", c.ID, "error", err)
	case st.GetStatus() == tasktypes.Status_STOPPED:
		s.TaskExited(c.ID, int32(st.GetExitStatus()), st.GetExitedAt().AsTime().UnixNano())
	case st.GetStatus() == tasktypes.Status_RUNNING && c.State == Created:
		_ = s.started(c.ID, st.GetPid())
	}
}

// reattachIO resumes runletd's copy of a third-party shim's FIFOs into
// the container's log, so output written while runletd was down (held in
// the FIFOs) and after it reaches the log and the container never blocks.
func (s *Service) reattachIO(ctx context.Context, c *Container) {
	io, err := cio.Reattach(ctx, cio.Options{ID: c.ID, FIFODir: c.FIFODir, LogPath: c.LogPath, LogDir: s.logDir(c), Terminal: c.Terminal}, c.Stdio)
	if err != nil {
		slog.Warn("reattach container stdio", "id", c.ID, "error", err)
		return
	}
	s.keepIO(c.ID, io)
}
