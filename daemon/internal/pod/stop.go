package pod

import (
	"context"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/failpoint"
)

// Stop stops a pod: its containers, its pause task and shim, its network
// and netns. It is idempotent, and an unknown id is not an error, as CRI
// asks; concurrent calls wait for the first. The record stays (NotReady)
// until Remove.
func (s *Service) Stop(ctx context.Context, id string) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	sb, err := s.Get(id)
	if errdefs.IsNotFound(err) || (err == nil && sb.Stopped) {
		return nil
	}
	if err != nil {
		return err
	}
	if c := s.containerService(); c != nil {
		if err := c.StopAll(ctx, id); err != nil {
			return err
		}
	}
	failpoint.Hit(failpoint.PodStopContainers)
	s.hooks().StopPodSandbox(ctx, &sb)
	if err := s.stopTask(ctx, &sb); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodStopTask)
	if err := s.releaseNetwork(ctx, &sb); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodStopNetwork)
	return s.update(id, func(sb *Sandbox) bool {
		sb.State, sb.Stopped = NotReady, true
		return true
	})
}
