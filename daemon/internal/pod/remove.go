package pod

import (
	"context"
	"errors"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/sandboxfs"
)

// Remove removes a pod, stopping it first; an unknown id is not an error.
// Everything it made goes: files and shm, bundle, rootfs snapshot, record
// and name.
func (s *Service) Remove(ctx context.Context, id string) error {
	if err := s.Stop(ctx, id); err != nil {
		return err
	}
	if c := s.containerService(); c != nil {
		if err := c.RemoveAll(ctx, id); err != nil {
			return err
		}
	}
	// The shim outlived Stop while container tasks were left; none is now.
	if err := s.o.Shims.Shutdown(ctx, id); err != nil {
		return err
	}
	sb, err := s.get(id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	files := &sandboxfs.Files{Dir: sb.Dir}
	b := &bundle.Bundle{Path: sb.Bundle, ID: sb.ID}
	err = errors.Join(files.Remove(ctx), b.Delete(ctx), s.o.Snapshots.Remove(ctx, sb.ID))
	if err != nil {
		return err
	}
	return s.forget(&sb)
}
