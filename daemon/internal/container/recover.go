package container

import (
	"context"
	"log/slog"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/cio"

	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// Recover brings the records of created and running containers up to
// date after runletd restarts (their pods' shims are reconnected first):
// an exit that happened while runletd was down, and whose event was lost,
// is read from the shim; a container whose shim is gone is cleaned up and
// recorded as killed. What a create cut short by a crash left is removed.
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
	for i := range live {
		s.recoverOne(ctx, &live[i])
	}
}

func (s *Service) recoverOne(ctx context.Context, c *Container) {
	s.reattachIO(ctx, c)
	t, err := s.taskOf(c)
	if err != nil {
		_ = s.markGone(ctx, c)
		return
	}
	st, err := t.State(ctx, &task.StateRequest{Id: c.ID})
	switch {
	case errdefs.IsNotFound(err):
		s.Exited(c.ID, 137, now())
	case err != nil:
		slog.Warn("container state after restart", "id", c.ID, "error", err)
	case st.GetStatus() == tasktypes.Status_STOPPED:
		s.TaskExited(c.ID, int32(st.GetExitStatus()), st.GetExitedAt().AsTime().UnixNano())
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
