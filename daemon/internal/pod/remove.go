package pod

import (
	"context"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/failpoint"
)

// Remove removes a pod, stopping it first; an unknown id is not an error.
// Everything it made goes: containers, files and shm, bundle, rootfs
// snapshot, record and name.
func (s *Service) Remove(ctx context.Context, id string) error {
	if err := s.Stop(ctx, id); err != nil {
		return err
	}
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	sb, err := s.Get(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if c := s.containerService(); c != nil {
		if err := c.RemoveAll(ctx, id); err != nil {
			return err
		}
	}
	failpoint.Hit(failpoint.PodRemoveCtrs)
	s.hooks().RemovePodSandbox(ctx, &sb)
	// The shim outlived Stop while container tasks were left; none is now.
	if _, err := s.shimOf(ctx, &sb); err == nil {
		if err := s.o.Shims.Shutdown(ctx, id); err != nil {
			return err
		}
	}
	if err := s.removeFiles(ctx, &sb); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodRemoveFiles)
	return s.forget(&sb)
}
