package container

import (
	"context"
	"io"

	"github.com/runlet/runlet/daemon/internal/cio"
)

// Attach streams a running container's stdio to a client until the
// container's output ends, the client's stdin ends, or ctx ends. A
// container made with StdinOnce has its stdin closed when the client's
// ends. A container with neither stdin nor terminal whose shim writes its
// log is attached output-only, by following that log.
func (s *Service) Attach(ctx context.Context, id string, sess Session) error {
	a, err := s.attachTarget(id, sess.Stdin != nil, sess.TTY)
	if err != nil {
		return err
	}
	if a.stdio == nil || !a.stdio.Attachable() {
		// Output only (attachTarget refused stdin): the shim writes the log.
		return s.followLog(ctx, &a.c, writerOrNil(sess.Stdout), writerOrNil(sess.Stderr))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	forwardResizes(ctx, a.t, id, "", sess.Resize)
	streams := cio.Streams{Stdin: sess.Stdin}
	if sess.Stdout != nil {
		streams.Stdout = sess.Stdout
	}
	if sess.Stderr != nil {
		streams.Stderr = sess.Stderr
	}
	return a.stdio.Attach(ctx, streams, a.cfg.GetStdinOnce(), closeStdin(a.t, id, ""))
}

// writerOrNil keeps a nil stream nil as an io.Writer.
func writerOrNil(w io.WriteCloser) io.Writer {
	if w == nil {
		return nil
	}
	return w
}
