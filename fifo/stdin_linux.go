package fifo

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
)

// StdinCopier feeds a process' stdin from a FIFO. It holds the FIFO open
// for reading and also holds a spare write end, so a client that closes its
// writer (or goes away, or comes back) sends no EOF: the process' stdin is
// closed only by CloseStdin, the shim's CloseIO.
type StdinCopier struct {
	copier *Copier
	reader *os.File // the FIFO's read end, the copier's source
	spare  *os.File // a FIFO write end held so the reader never sees EOF

	closeOnce sync.Once
	closeErr  error // set once inside closeOnce
}

// NewStdinCopier opens the stdin FIFO at path, without blocking, to copy it
// into dst, the process' stdin. On success the StdinCopier owns dst. Start
// starts the copy.
func NewStdinCopier(path string, dst io.WriteCloser) (*StdinCopier, error) {
	r, w, err := openBothEnds(path)
	if err != nil {
		return nil, err
	}
	c, err := NewCopier(dst, r)
	if err != nil {
		return nil, errors.Join(err, closeFile(r), closeFile(w))
	}
	return &StdinCopier{copier: c, reader: r, spare: w}, nil
}

// Start starts copying. Cancelling ctx stops the copy and closes the
// process' stdin, as Close does: pass a context that lives as long as the
// process, not a request's.
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
		s.closeErr = errors.Join(s.copier.Close(), closeFile(s.reader), closeFile(s.spare))
	})
	return s.closeErr
}

// started reports whether Start was called.
func (s *StdinCopier) started() bool {
	s.copier.mu.Lock()
	defer s.copier.mu.Unlock()
	return s.copier.started
}
