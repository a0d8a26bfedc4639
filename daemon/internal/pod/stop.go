package pod

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/netns"
)

// Stop stops a pod: its pause task and shim, its network and netns. It is
// idempotent, and an unknown id is not an error, as CRI asks. The record
// stays (NotReady) until Remove.
func (s *Service) Stop(ctx context.Context, id string) error {
	sb, err := s.get(id)
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
	if err := s.stopTask(ctx, &sb); err != nil {
		return err
	}
	if err := s.releaseNetwork(ctx, &sb); err != nil {
		return err
	}
	sb.State, sb.Stopped = NotReady, true
	return s.save(&sb)
}

// stopTask ends the pause task: through the pod's shim, or with the
// shim's `delete` when the shim is gone.
func (s *Service) stopTask(ctx context.Context, sb *Sandbox) error {
	p, err := s.o.Shims.Pod(sb.ID)
	if errdefs.IsNotFound(err) {
		return s.cleanupTask(ctx, sb)
	}
	if err != nil {
		return err
	}
	killAndDelete(ctx, p.Task(), sb.ID)
	return s.o.Shims.Shutdown(ctx, sb.ID)
}

// cleanupTask runs the shim's `delete` for a pod whose shim is gone.
func (s *Service) cleanupTask(ctx context.Context, sb *Sandbox) error {
	h, err := s.o.Handlers.Resolve(sb.Handler)
	if err != nil {
		return err
	}
	_, err = s.o.Shims.Cleanup(ctx, h, sb.ID, sb.Bundle)
	return err
}

// releaseNetwork runs CNI DEL and removes the netns; both are idempotent.
func (s *Service) releaseNetwork(ctx context.Context, sb *Sandbox) error {
	if sb.NetNS == "" {
		return nil
	}
	cfg, err := sb.config()
	if err != nil {
		return err
	}
	teardown := s.o.Network.Teardown(ctx, podNetwork(sb, cfg))
	// Remove by name also clears the empty file a crash mid-create leaves.
	return errors.Join(teardown, netns.Remove(ctx, filepath.Dir(sb.NetNS), sb.ID))
}
