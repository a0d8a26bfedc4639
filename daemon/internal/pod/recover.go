package pod

import (
	"context"
	"log/slog"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/shim"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// Recover runs once at start, before CRI calls are served. It undoes the
// pods whose creation a crash cut short, and reconnects to the shims of
// the others: their tasks keep running, untouched. A pod whose shim is
// gone is cleaned up with the shim's `delete` and reported not ready, as
// is one whose pause exited while runletd was down. A shim that cannot be
// reached for another reason (a cancelled start, a full descriptor table)
// is left as recorded: its pod is not touched. Recovery stops when ctx
// ends (runletd told to stop while starting).
func (s *Service) Recover(ctx context.Context) {
	s.mu.Lock()
	all := make([]Sandbox, 0, len(s.pods))
	for _, sb := range s.pods {
		all = append(all, *sb)
	}
	s.mu.Unlock()
	for i := 0; i < len(all) && ctx.Err() == nil; i++ {
		s.recoverOne(ctx, &all[i])
	}
}

// recoverOne brings one pod up to date, within cleanupTimeout.
func (s *Service) recoverOne(ctx context.Context, sb *Sandbox) {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	switch {
	case sb.State == Creating:
		_ = s.abandon(ctx, sb)
	case sb.Stopped:
		// A shim kept alive by container tasks is shut down at Remove.
		_, _ = s.o.Shims.Reconnect(ctx, s.o.Handlers, sb.Shim)
	default:
		s.recoverLive(ctx, sb)
	}
}

// recoverLive reconnects to a pod's shim and checks its pause task.
func (s *Service) recoverLive(ctx context.Context, sb *Sandbox) {
	p, err := s.o.Shims.Reconnect(ctx, s.o.Handlers, sb.Shim)
	if err != nil && !shim.Gone(err) {
		slog.Warn("pod shim unreachable at start: the pod is left as recorded", "id", sb.ID, "error", err)
		s.mu.Lock()
		s.unreachable[sb.ID] = true
		s.mu.Unlock()
		return
	}
	if err != nil {
		slog.Warn("pod shim is gone", "id", sb.ID, "error", err)
		if err := s.cleanupTask(ctx, sb); err != nil {
			slog.Warn("clean up after a dead shim", "id", sb.ID, "error", err)
		}
		if err := shim.RemoveDeadSocket(sb.Shim.Address); err != nil {
			slog.Warn("remove the socket of a dead shim", "id", sb.ID, "error", err)
		}
		s.notReady(sb.ID)
		return
	}
	st, err := p.Task().State(ctx, &task.StateRequest{Id: sb.ID})
	if errdefs.IsNotFound(err) || (err == nil && st.GetStatus() == tasktypes.Status_STOPPED) {
		s.notReady(sb.ID)
	}
}

// notReady records that a pod's pause task is gone.
func (s *Service) notReady(id string) {
	err := s.update(id, func(sb *Sandbox) bool {
		if sb.State != Ready {
			return false
		}
		sb.State = NotReady
		return true
	})
	if err != nil && !errdefs.IsNotFound(err) {
		slog.Warn("sandbox state", "id", id, "error", err)
	}
}

// ShimUnreachable reports whether recovery could not tell whether the
// pod's shim lives: its containers are then left as recorded too.
func (s *Service) ShimUnreachable(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unreachable[id]
}
