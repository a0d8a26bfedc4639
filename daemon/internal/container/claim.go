package container

import (
	"bytes"
	"context"
	"log/slog"

	"github.com/containerd/errdefs"
)

// claimName writes a new record (state Creating) with its name
// reservation. A name still held by a record whose creation was abandoned
// but could not be undone (its teardown failed), and that no call of this
// process is building, is undone again first: a name is never reserved
// forever.
func (s *Service) claimName(ctx context.Context, c *Container) error {
	return s.claim(c, func(holder string) bool {
		held, err := s.record(holder)
		return err == nil && held.State == Creating && !s.building(holder) && s.abandon(ctx, &held) == nil
	})
}

// retried answers a CreateContainer whose name is taken: a retry of a call
// that made the container, in the same pod with the same config, gets its
// id; anything else keeps the AlreadyExists error naming the holder.
func (s *Service) retried(c *Container, err error) (string, error) {
	held, ok := s.heldBy(c.Name)
	if errdefs.IsAlreadyExists(err) && ok && held.State != Creating && held.SandboxID == c.SandboxID &&
		bytes.Equal(held.Config, c.Config) {
		return held.ID, nil
	}
	return "", err
}

// heldBy returns the record of the container holding name.
func (s *Service) heldBy(name string) (Container, bool) {
	id, err := s.names.Holder(name)
	if err != nil {
		return Container{}, false
	}
	c, err := s.record(id)
	return c, err == nil
}

// abandon undoes a container whose creation failed or was cut short, from
// its record alone, then forgets it. A teardown that fails keeps the
// record (still Creating) so that a later start or a retry tries again.
func (s *Service) abandon(ctx context.Context, c *Container) error {
	if err := s.teardown(ctx, c); err != nil {
		slog.Warn("undo a container that was not made", "id", c.ID, "error", err)
		return err
	}
	return s.forget(c)
}
