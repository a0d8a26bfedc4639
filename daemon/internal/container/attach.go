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
	if err := s.CheckAttach(id, sess.Stdin != nil, sess.TTY); err != nil {
		return err
	}
	c, t, err := s.running(id)
	if err != nil {
		return err
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	io := s.stdio(id)
	if io == nil { // removed since the check
		return fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
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
