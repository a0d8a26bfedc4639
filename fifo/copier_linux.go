package fifo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// copyBufferSize is the size of the pooled copy buffers.
const copyBufferSize = 32 * 1024

// bufPool holds copy buffers, so idle copiers hold none.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, copyBufferSize)
	return &b
}}

// Copier copies a process' output from a pipe (or a pty master) to a
// destination in the background, and tells when everything the process wrote
// has been copied out.
//
// The Copier owns dst: it closes dst when the copy ends (end of src, error,
// Close, or cancellation), and Close closes dst to end a write blocked on
// it. It never closes src. If dst has a Flush() error method, as the streams
// of [LogWriter] do, Drain calls it so that bytes dst holds back (an
// unterminated line) are written out too; it must be safe to call while
// Write runs.
type Copier struct {
	src    *os.File
	raw    syscall.RawConn
	dst    io.WriteCloser
	exited chan struct{} // closed when the copy loop has ended
	loop   loopState     // used only by the copy loop goroutine

	dstOnce sync.Once
	dstErr  error // set once inside dstOnce

	mu       sync.Mutex
	started  bool          // guarded by mu
	stopped  error         // guarded by mu; why the copy was asked to stop
	inFlight bool          // guarded by mu; bytes read from src not yet written to dst
	done     bool          // guarded by mu; the copy loop has ended and dst is closed
	err      error         // guarded by mu; why the loop ended, nil for end of src
	progress chan struct{} // guarded by mu; closed at the next write or the end, for Drain
}

// NewCopier prepares a copy from src to dst; Start starts it. src must be
// pollable (os.Pipe's ends and files opened with os.OpenFile are; a file
// made with os.NewFile is when its descriptor was non-blocking), otherwise
// NewCopier fails with errdefs.ErrInvalidArgument.
func NewCopier(dst io.WriteCloser, src *os.File) (*Copier, error) {
	if err := src.SetReadDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("copy source %s is not pollable (make its descriptor non-blocking before os.NewFile): %w: %w",
			src.Name(), err, errdefs.ErrInvalidArgument)
	}
	raw, err := src.SyscallConn()
	if err != nil {
		return nil, wrapOS("copy source "+src.Name(), err)
	}
	c := &Copier{src: src, raw: raw, dst: dst, exited: make(chan struct{})}
	c.loop.readFn = c.readOnce
	return c, nil
}

// Start starts copying in the background; cancelling ctx stops the copy as
// Close does, without waiting. Starting twice, or after Close, does nothing.
func (c *Copier) Start(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.stopped != nil {
		return
	}
	c.started = true
	stopOnCancel := context.AfterFunc(ctx, func() {
		c.stop(fmt.Errorf("copy from %s: %w", c.src.Name(), context.Cause(ctx)))
	})
	go c.run(stopOnCancel)
}

// Drain waits until every byte written to src before the call has been
// copied to dst: the copy reached the end of src, or src has nothing to read
// and no write to dst is in flight. Call it after the writing process
// has exited; a background process that keeps src open does not hold it up,
// and the copy goes on after Drain returns. It returns the error that ended
// the copy, if any; errdefs.ErrFailedPrecondition before Start or after a
// Close that stopped the copy early.
func (c *Copier) Drain(ctx context.Context) error {
	for {
		wait, idle, err := c.drainState()
		switch {
		case idle:
			return c.flushDst()
		case wait == nil:
			return err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return fmt.Errorf("drain %s: %w", c.src.Name(), context.Cause(ctx))
		}
	}
}

// Close stops the copy, closes dst and waits for the copy loop to end.
// Bytes still in src are not copied: call Drain first to keep them.
func (c *Copier) Close() error {
	c.stop(fmt.Errorf("copy from %s closed before draining: %w", c.src.Name(), errdefs.ErrFailedPrecondition))
	err := c.closeDst()
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	if started {
		<-c.exited
	}
	return err
}

// drainState tells Drain where the copy stands: idle (src empty, nothing
// in flight), ended (nil channel, with the copy's result), or else the
// channel to wait on before asking again.
func (c *Copier) drainState() (wait <-chan struct{}, idle bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.done:
		return nil, false, c.err
	case !c.started:
		return nil, false, fmt.Errorf("drain %s before Start: %w", c.src.Name(), errdefs.ErrFailedPrecondition)
	case c.stopped == nil:
		// A stopping copy reports how it ended instead.
		if idle, err = c.idle(); idle || err != nil {
			return nil, idle, err
		}
	}
	if c.progress == nil {
		c.progress = make(chan struct{})
	}
	return c.progress, false, nil
}

// idle reports whether src has nothing to read and no write is in flight.
// The caller holds c.mu, which the copy loop holds while it reads, so a
// read cannot take bytes between the two checks unnoticed.
//
// It polls src rather than counting its bytes (FIONREAD): for a pty master
// poll(2) first pushes the bytes the slave wrote through the tty layer,
// where FIONREAD would miss them, and poll reports a pipe whose writers are
// all gone as readable, so Drain waits for the end of the copy then.
func (c *Copier) idle() (bool, error) {
	if c.inFlight {
		return false, nil
	}
	var readable bool
	var pollErr error
	err := c.raw.Control(func(fd uintptr) {
		readable, pollErr = pollReadable(int(fd))
	})
	if err = errors.Join(err, pollErr); err != nil {
		return false, wrapOS("poll "+c.src.Name(), err)
	}
	return !readable, nil
}

// pollReadable reports, without waiting, whether a read of fd would not
// block: it has bytes, or its writers are gone, or it is in error.
func pollReadable(fd int) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return false, err
		}
		return n > 0 && fds[0].Revents != 0, nil
	}
}

// flushDst asks dst to write out what it holds back, if it can.
func (c *Copier) flushDst() error {
	f, ok := c.dst.(interface{ Flush() error })
	if !ok {
		return nil
	}
	if err := f.Flush(); err != nil {
		return fmt.Errorf("flush copy of %s: %w", c.src.Name(), err)
	}
	return nil
}

// stop makes the copy loop's pending and next reads fail.
func (c *Copier) stop(why error) {
	c.mu.Lock()
	if c.stopped == nil {
		c.stopped = why
	}
	c.mu.Unlock()
	_ = c.src.SetReadDeadline(time.Now())
}

// closeDst closes dst once, whoever asks first.
func (c *Copier) closeDst() error {
	c.dstOnce.Do(func() {
		if err := c.dst.Close(); err != nil {
			c.dstErr = fmt.Errorf("close copy of %s: %w", c.src.Name(), err)
		}
	})
	return c.dstErr
}
