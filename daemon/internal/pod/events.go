package pod

import (
	"context"
	"log/slog"
)

// TaskExited is told when a pod's pause task exits: the pod is no longer
// ready (kubelet then stops and recreates it).
func (s *Service) TaskExited(ctx context.Context, id string) {
	sb, err := s.get(id)
	if err != nil || sb.State != Ready {
		return
	}
	if err := s.setState(ctx, id, NotReady); err != nil {
		slog.Warn("sandbox state", "id", id, "error", err)
	}
}

// ShimExited is told when a pod's shim goes away; a pod still ready lost
// its pause task with it.
func (s *Service) ShimExited(id string) {
	s.TaskExited(context.Background(), id)
}
