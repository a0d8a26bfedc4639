package cio

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// Streams are one attach session's ends: nil fields are not attached.
// Stderr is ignored for a terminal (its output is all on Stdout).
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Attachable reports whether the daemon sees the container's output and
// stdin, which attaching needs: containers with a stdin or a terminal always
// have their output copied by the daemon.
func (c *IO) Attachable() bool { return len(c.fans) > 0 || c.stdn != nil }

// Attach joins a session to the container's stdio. It returns when the
// container's output ends, ctx ends, the client cannot take output any
// more, or the client's stdin ends. In the last case with stdinOnce (as
// kubelet asks with StdinOnce) the container's stdin is closed for good by
// closeStdin and the session goes on until the container's output ends.
func (c *IO) Attach(ctx context.Context, s Streams, stdinOnce bool, closeStdin func(context.Context) error) error {
	if !c.Attachable() {
		return fmt.Errorf("the container has neither stdin nor a terminal and its output goes straight to its log: %w", errdefs.ErrFailedPrecondition)
	}
	if s.Stdin != nil && c.stdn == nil {
		return fmt.Errorf("the container was not created with stdin: %w", errdefs.ErrInvalidArgument)
	}
	gone := make(chan struct{})
	detach := c.attachOutput(s, gone)
	// A client still there is written its queued output first.
	defer func() { detach(ctx.Err() == nil) }()
	stdinDone := make(chan struct{})
	if s.Stdin != nil {
		go func() {
			defer close(stdinDone)
			_, _ = io.Copy(c.stdn, s.Stdin)
		}()
	}
	for {
		select {
		case <-stdinDone:
			if !stdinOnce {
				return nil
			}
			stdinDone = nil // from now on wait for the output's end
			if err := c.endStdin(ctx, closeStdin); err != nil {
				return err
			}
		case <-c.done:
			return nil
		case <-gone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// attachOutput adds the session's writers to the output streams and
// returns what removes them, waiting (with drain, at most drainTimeout in
// all) until what was queued for them is written; gone is closed when the
// client falls too far behind or a write to it fails.
func (c *IO) attachOutput(s Streams, gone chan struct{}) (detach func(drain bool)) {
	var once sync.Once
	fail := func() { once.Do(func() { close(gone) }) }
	var removes []func() <-chan struct{}
	for i, w := range []io.Writer{s.Stdout, s.Stderr} {
		if w != nil && i < len(c.fans) {
			removes = append(removes, c.fans[i].add(w, fail))
		}
	}
	return func(drain bool) {
		var drained []<-chan struct{}
		for _, r := range removes {
			drained = append(drained, r())
		}
		if !drain {
			return
		}
		timeout := time.NewTimer(drainTimeout)
		defer timeout.Stop()
		for _, d := range drained {
			select {
			case <-d:
			case <-timeout.C:
				return
			}
		}
	}
}

// endStdin closes the container's stdin for good: the daemon's end of the
// FIFO, then the shim's (closeStdin), which gets its own short deadline.
func (c *IO) endStdin(ctx context.Context, closeStdin func(context.Context) error) error {
	c.closeStdinEnd()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeStdinTimeout)
	defer cancel()
	return closeStdin(cctx)
}

// closeStdinTimeout bounds the shim's CloseIO at an attach's end.
const closeStdinTimeout = 10 * time.Second

// closeStdinEnd closes the daemon's end of the stdin FIFO, the EOF a shim
// that copies until EOF waits for.
func (c *IO) closeStdinEnd() {
	c.stdinOnce.Do(func() { _ = c.stdn.Close() })
}
