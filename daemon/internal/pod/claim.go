package pod

import (
	"context"
	"log/slog"

	"github.com/containerd/errdefs"
)

// claimName writes a new record (state Creating) with its name
// reservation. A name still held by a record whose creation was abandoned
// but could not be undone (its teardown failed), and that no call of this
// process is building, is undone again first: a name is never reserved
// forever.
func (s *Service) claimName(ctx context.Context, sb *Sandbox) error {
	return s.claim(sb, func(holder string) bool {
		held, err := s.get(holder)
		return err == nil && held.State == Creating && !s.building(holder) && s.abandon(ctx, &held) == nil
	})
}

// retried answers a RunPodSandbox whose name is taken: a retry of a call
// that made a pod, ready with the same config and handler, gets its id;
// anything else keeps the AlreadyExists error naming the holder.
func (s *Service) retried(sb *Sandbox, err error) (string, error) {
	held, ok := s.heldBy(sb.Name)
	if errdefs.IsAlreadyExists(err) && ok && held.State == Ready && held.RunKey != "" && held.RunKey == sb.RunKey {
		return held.ID, nil
	}
	return "", err
}

// heldBy returns the record of the pod holding name.
func (s *Service) heldBy(name string) (Sandbox, bool) {
	id, err := s.names.Holder(name)
	if err != nil {
		return Sandbox{}, false
	}
	sb, err := s.get(id)
	return sb, err == nil
}

// building reports whether a RunPodSandbox of this process is making id.
func (s *Service) building(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight[id]
}

// abandon undoes a pod whose creation failed or was cut short, from its
// record alone, then forgets it. A teardown that fails keeps the record
// (still Creating) so that a later start or a retry tries again.
func (s *Service) abandon(ctx context.Context, sb *Sandbox) error {
	if err := s.teardown(ctx, sb); err != nil {
		slog.Warn("undo a pod that was not made", "id", sb.ID, "error", err)
		return err
	}
	return s.forget(sb)
}
