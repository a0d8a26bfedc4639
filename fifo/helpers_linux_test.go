package fifo

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
)

// newPipe returns an os.Pipe whose ends are closed at cleanup.
func newPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return r, w
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// memDst is a destination that keeps what it is given.
type memDst struct {
	mu     sync.Mutex
	buf    bytes.Buffer // guarded by mu
	closed bool         // guarded by mu
	// onClose, when not nil, is closed by Close.
	onClose chan struct{}
}

func (m *memDst) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, os.ErrClosed
	}
	return m.buf.Write(p)
}

func (m *memDst) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed && m.onClose != nil {
		close(m.onClose)
	}
	m.closed = true
	return nil
}

// bytes returns a copy of what was written.
func (m *memDst) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.buf.Bytes())
}

// startCopier starts a copier from src to dst, closed at cleanup.
func startCopier(t *testing.T, dst io.WriteCloser, src *os.File) *Copier {
	t.Helper()
	c, err := NewCopier(dst, src)
	if err != nil {
		t.Fatal(err)
	}
	c.Start(context.Background())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// cancelled is a context that is already done.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// writeAll writes p to w in a goroutine and reports the result on the
// returned channel.
func writeAll(w io.Writer, p []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(p)
		done <- err
	}()
	return done
}
