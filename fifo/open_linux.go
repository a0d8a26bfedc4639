package fifo

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"

	cfifo "github.com/containerd/fifo"
	"golang.org/x/sys/unix"
)

// OpenReader opens the read end of the FIFO at path. It returns at once;
// reads wait until a writer has opened the FIFO. Cancelling ctx before the
// FIFO is opened fails the pending open.
func OpenReader(ctx context.Context, path string) (io.ReadCloser, error) {
	return openFIFO(ctx, path, syscall.O_RDONLY)
}

// OpenWriter opens the write end of the FIFO at path. It returns at once;
// writes wait until a reader has opened the FIFO. Cancelling ctx before a
// reader appears fails the pending open, and with it the waiting writes.
func OpenWriter(ctx context.Context, path string) (io.WriteCloser, error) {
	return openFIFO(ctx, path, syscall.O_WRONLY)
}

// openFIFO opens an existing FIFO with containerd/fifo in non-blocking
// mode: the open completes in the background when the peer appears.
func openFIFO(ctx context.Context, path string, flag int) (io.ReadWriteCloser, error) {
	if err := isFIFO(path); err != nil {
		return nil, err
	}
	f, err := cfifo.OpenFifo(ctx, path, flag|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, wrapOS("open fifo "+path, err)
	}
	return f, nil
}

// OpenOutput opens the FIFO at path for a shim to write a process' output
// into. It never blocks: it holds a read end of its own, so the write end
// opens at once and a client that closes its reader (a restarting daemon)
// does not break the copy with EPIPE; output then waits in the FIFO, and
// writes block once it is full, until a reader comes back. Close releases
// both ends.
func OpenOutput(path string) (io.WriteCloser, error) {
	r, w, err := openBothEnds(path)
	if err != nil {
		return nil, err
	}
	return &heldWriter{w: w, held: r}, nil
}

// openBothEnds opens the FIFO at path for reading, then for writing, both
// non-blocking and pollable: neither open waits, as each end finds a peer.
func openBothEnds(path string) (r, w *os.File, err error) {
	if err := isFIFO(path); err != nil {
		return nil, nil, err
	}
	r, err = os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, wrapOS("open fifo "+path, err)
	}
	w, err = os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, errors.Join(wrapOS("open fifo "+path, err), closeFile(r))
	}
	return r, w, nil
}

// heldWriter is a FIFO's write end that keeps a read end open.
type heldWriter struct {
	w, held *os.File
}

// Write writes to the FIFO, waiting while it is full.
func (h *heldWriter) Write(p []byte) (int, error) {
	return h.w.Write(p)
}

// Close closes both ends; a Write waiting on a full FIFO returns.
func (h *heldWriter) Close() error {
	return errors.Join(closeFile(h.w), closeFile(h.held))
}

// Pipes are the client ends of a Set's FIFOs, as runletd holds them for a
// third-party shim: it writes the process' stdin and reads its output. A
// field is nil when the set has no such FIFO.
type Pipes struct {
	Stdin  io.WriteCloser
	Stdout io.ReadCloser
	Stderr io.ReadCloser
}

// Open opens the client ends of the set without blocking, so the shim can
// be started after: reads and writes wait until the shim opens its ends.
// Cancelling ctx fails the opens still pending.
func (s *Set) Open(ctx context.Context) (_ *Pipes, err error) {
	p := &Pipes{}
	defer func() {
		if err != nil {
			_ = p.Close()
		}
	}()
	if s.Stdin != "" {
		if p.Stdin, err = OpenWriter(ctx, s.Stdin); err != nil {
			return nil, err
		}
	}
	if s.Stdout != "" {
		if p.Stdout, err = OpenReader(ctx, s.Stdout); err != nil {
			return nil, err
		}
	}
	if s.Stderr != "" {
		if p.Stderr, err = OpenReader(ctx, s.Stderr); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Close closes the open ends.
func (p *Pipes) Close() error {
	var errs []error
	for _, c := range []io.Closer{p.Stdin, p.Stdout, p.Stderr} {
		if c != nil {
			if err := c.Close(); err != nil {
				errs = append(errs, wrapOS("close fifo", err))
			}
		}
	}
	return errors.Join(errs...)
}
