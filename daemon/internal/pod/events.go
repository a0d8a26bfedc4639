package pod

import (
	"context"
	"log/slog"
)

// TaskExited is told when a pod's pause task exits: the pod is no longer
// ready (kubelet then stops and recreates it).
func (s *Service) TaskExited(ctx context.Context, id string) { s.notReady(id) }

// ShimExited is told when a pod's shim went away on its own: it died, or
// exited after a Shutdown. A pod that was not stopped lost its tasks with
// it, as containerd handles it: every live container is cleaned up with the
// shim's `delete` and reported exited, the pause too, and the pod is not
// ready. It waits for a Stop or Remove in progress, which leaves nothing
// to do.
func (s *Service) ShimExited(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	unlock, err := s.lock(ctx, id)
	if err != nil {
		// A call held the pod all along (a hung CreateContainer, say):
		// its own end, or the next Stop or Remove, meets the dead shim.
		slog.Warn("a dead shim's pod stayed locked; its cleanup is left to the next call on the pod", "id", id, "error", err)
		return
	}
	defer unlock()
	sb, err := s.get(id)
	if err != nil || sb.Stopped || sb.State == Creating {
		return // gone, stopped, or a RunPodSandbox that fails on its own
	}
	if c := s.containerService(); c != nil {
		c.ShimDied(ctx, id)
	}
	if err := s.cleanupTask(ctx, &sb); err != nil {
		slog.Warn("clean up the pause task of a dead shim", "id", id, "error", err)
	}
	s.notReady(id)
}
