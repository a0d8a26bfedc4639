package fifo

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// StdinCopier feeds a process' stdin from a FIFO. It holds the FIFO open
// for reading and also holds a spare write end, so a client that closes its
// writer (or goes away, or comes back) sends no EOF: the process' stdin is
// closed only by CloseStdin, the shim's CloseIO.
type StdinCopier struct {
	copier *Copier
	fifo   *os.File // the read end, the copier's source
	spare  *os.File // a write end held so the FIFO never reports EOF

	closeOnce sync.Once
	closeErr  error // set once inside closeOnce
}

// NewStdinCopier opens the stdin FIFO at path, without blocking, to copy it
// into dst, the process' stdin, which the StdinCopier then owns. Start
// starts the copy.
func NewStdinCopier(path string, dst io.WriteCloser) (*StdinCopier, error) {
	if err := isFIFO(path); err != nil {
		return nil, err
	}
	r, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wrapOS("open stdin fifo", err)
	}
	w, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = r.Close()
		return nil, wrapOS("open stdin fifo", err)
	}
	c, err := NewCopier(dst, r)
	if err != nil {
		return nil, errors.Join(err, r.Close(), w.Close())
	}
	return &StdinCopier{copier: c, fifo: r, spare: w}, nil
}

// Start starts copying; cancelling ctx stops the copy (stdin stays open
// until CloseStdin or Close).
func (s *StdinCopier) Start(ctx context.Context) {
	s.copier.Start(ctx)
}

// CloseStdin copies what the FIFO already holds into the process' stdin,
// then closes it and the FIFO ends. When ctx ends first, stdin is closed
// anyway and the ctx error returned. A process that no longer reads its
// stdin (EPIPE) is not an error.
func (s *StdinCopier) CloseStdin(ctx context.Context) error {
	err := s.copier.Drain(ctx)
	if errors.Is(err, syscall.EPIPE) || (err != nil && !s.started()) {
		err = nil
	}
	return errors.Join(err, s.Close())
}

// Close stops the copy at once and closes the process' stdin and the FIFO
// ends. Closing twice is a no-op.
func (s *StdinCopier) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.copier.Close(), s.fifo.Close(), s.spare.Close())
	})
	return s.closeErr
}

// started reports whether Start was called.
func (s *StdinCopier) started() bool {
	s.copier.mu.Lock()
	defer s.copier.mu.Unlock()
	return s.copier.started
}
