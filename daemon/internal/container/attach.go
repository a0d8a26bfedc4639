package container

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/cio"
)

// Attach streams a running container's stdio to a client until the
// container's output ends, the client's stdin ends, or ctx ends. A
// container made with StdinOnce has its stdin closed when the client's
// ends. Only containers with a stdin or a terminal can be attached.
func (s *Service) Attach(ctx context.Context, id string, sess Session) error {
	c, t, err := s.running(id)
	if err != nil {
		return err
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	if err := s.CheckAttach(id, sess.Stdin != nil, sess.TTY); err != nil {
		return err
	}
	s.mu.Lock()
	io, _ := s.io[id].(*cio.IO)
	s.mu.Unlock()
	if io == nil {
		return fmt.Errorf("container %q: its stdio is not held by runletd: %w", id, errdefs.ErrFailedPrecondition)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	forwardResizes(ctx, t, id, "", sess.Resize)
	streams := cio.Streams{Stdin: sess.Stdin}
	if sess.Stdout != nil {
		streams.Stdout = sess.Stdout
	}
	if sess.Stderr != nil {
		streams.Stderr = sess.Stderr
	}
	return io.Attach(ctx, streams, cfg.GetStdinOnce(), closeStdin(t, id, ""))
}
