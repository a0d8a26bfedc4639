package fifo

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// run is the copy loop: it copies until the end of src, an error or a stop,
// then closes dst and wakes Drain.
func (c *Copier) run(stopOnCancel func() bool) {
	defer close(c.exited)
	buf := bufPool.Get().(*[]byte)
	err := c.pump(*buf)
	bufPool.Put(buf)
	stopOnCancel()
	closeErr := c.closeDst()

	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped != nil:
		err = c.stopped
	case err == nil:
		err = closeErr
	}
	c.done, c.err, c.inFlight = true, err, false
	c.wake()
}

// pump moves bytes from src to dst until the end of src (nil) or an error.
func (c *Copier) pump(buf []byte) error {
	for {
		n, err := c.read(buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return wrapOS("read "+c.src.Name(), err)
		}
		_, err = c.dst.Write(buf[:n])
		c.mu.Lock()
		c.inFlight = false
		c.wake()
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("copy from %s: %w", c.src.Name(), err)
		}
	}
}

// read reads what src holds, waiting in the poller while it is empty. It
// takes c.mu around read(2) and marks the bytes in flight before releasing
// it, so Drain never sees them neither in src nor in flight. It reads only
// when poll(2) says a read will not block: src may have been put back in
// blocking mode (os.File.Fd does that), and a blocking read under c.mu
// would stall Drain.
func (c *Copier) read(buf []byte) (int, error) {
	c.loop.buf = buf
	err := c.raw.Read(c.loop.readFn)
	n, readErr := c.loop.n, c.loop.err
	switch {
	case err != nil:
		return 0, err
	case readErr == unix.EIO: // a pty master whose last slave closed
		return 0, io.EOF
	case readErr != nil:
		return 0, readErr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readOnce is the RawConn.Read callback of read: it reports false to wait
// for src to become readable.
func (c *Copier) readOnce(fd uintptr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loop.n = 0
	ready, err := pollReadable(int(fd))
	if !ready || err != nil {
		c.loop.err = err
		return err != nil
	}
	c.loop.n, c.loop.err = readRetryingEINTR(int(fd), c.loop.buf)
	c.inFlight = c.loop.n > 0
	return c.loop.err != unix.EAGAIN
}

// loopState is what the copy loop keeps between its reads; only the loop
// goroutine uses it, so the hot path allocates nothing.
type loopState struct {
	readFn func(fd uintptr) bool // c.readOnce, bound once
	buf    []byte                // the pooled buffer being read into
	n      int                   // bytes the last read returned
	err    error                 // error the last read returned
}

// readRetryingEINTR is read(2), retried when a signal interrupts it.
func readRetryingEINTR(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

// wake wakes the Drain calls waiting for progress. The caller holds c.mu.
func (c *Copier) wake() {
	if c.progress != nil {
		close(c.progress)
		c.progress = nil
	}
}
