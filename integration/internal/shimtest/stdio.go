package shimtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/fifo"
)

// StdioOptions choose which stdio FIFOs a process gets.
type StdioOptions struct {
	// Stdin creates a stdin FIFO the test writes to.
	Stdin bool
	// Terminal: one output stream (stdout), no stderr.
	Terminal bool
	// Stdout and Stderr receive the output; nil: a SafeBuffer.
	Stdout, Stderr io.Writer
}

// Stdio is a set of stdio FIFOs as containerd's cio makes them: the
// harness creates them and holds the read ends of stdout/stderr and the
// write end of stdin; the shim opens the other ends.
type Stdio struct {
	Stdin, Stdout, Stderr string // paths for the request ("" = none)

	Out, Err *SafeBuffer // when the options named no writer

	mu       sync.Mutex
	stdin    io.WriteCloser
	closers  []io.Closer
	outDone  chan error
	errDone  chan error
	dir      string
	terminal bool
	closeAll sync.Once
}

var stdioSeq struct {
	sync.Mutex
	n int
}

// NewStdio creates the FIFOs under the env dir and starts copying output.
// Cleanup closes every end and removes the FIFOs.
func (e *Env) NewStdio(opts StdioOptions) *Stdio {
	t := e.T
	t.Helper()
	stdioSeq.Lock()
	stdioSeq.n++
	n := stdioSeq.n
	stdioSeq.Unlock()
	dir := filepath.Join(e.Dir, "io", fmt.Sprint(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Stdio{dir: dir, terminal: opts.Terminal}
	t.Cleanup(func() { s.Close() })
	e.mu.Lock()
	e.stdios = append(e.stdios, s)
	e.mu.Unlock()
	ctx := context.Background()
	open := func(name string, flag int) io.ReadWriteCloser {
		f, err := fifo.OpenFifo(ctx, filepath.Join(dir, name), flag|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700)
		if err != nil {
			t.Fatalf("open %s fifo: %v", name, err)
		}
		s.mu.Lock()
		s.closers = append(s.closers, f)
		s.mu.Unlock()
		return f
	}
	if opts.Stdin {
		s.Stdin = filepath.Join(dir, "stdin")
		s.stdin = open("stdin", syscall.O_WRONLY)
	}
	s.Stdout = filepath.Join(dir, "stdout")
	out := opts.Stdout
	if out == nil {
		s.Out = NewSafeBuffer()
		out = s.Out
	}
	s.outDone = make(chan error, 1)
	go copyUntilEOF(out, open("stdout", syscall.O_RDONLY), s.outDone)
	if !opts.Terminal {
		s.Stderr = filepath.Join(dir, "stderr")
		errw := opts.Stderr
		if errw == nil {
			s.Err = NewSafeBuffer()
			errw = s.Err
		}
		s.errDone = make(chan error, 1)
		go copyUntilEOF(errw, open("stderr", syscall.O_RDONLY), s.errDone)
	}
	return s
}

// Write writes p to the process's stdin, giving up when ctx ends.
func (s *Stdio) Write(ctx context.Context, p []byte) error {
	s.mu.Lock()
	w := s.stdin
	s.mu.Unlock()
	if w == nil {
		return fmt.Errorf("no stdin: %w", errClosed)
	}
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(p)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		w.Close()
		return fmt.Errorf("write stdin: %w", ctx.Err())
	}
}

// CloseStdin closes the harness's write end of the stdin FIFO (what a
// client does when its input ends); it is not CloseIO.
func (s *Stdio) CloseStdin() error {
	s.mu.Lock()
	w := s.stdin
	s.stdin = nil
	s.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Close()
}

// ReopenStdin opens a new write end on the stdin FIFO (a client that
// re-attaches), replacing the closed one.
func (s *Stdio) ReopenStdin(ctx context.Context) error {
	f, err := fifo.OpenFifo(ctx, s.Stdin, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.stdin = f
	s.closers = append(s.closers, f)
	s.mu.Unlock()
	return nil
}

// WaitEOF waits until the shim closed stdout (and stderr): all output of
// the process has been delivered.
func (s *Stdio) WaitEOF(ctx context.Context) error {
	for _, ch := range []chan error{s.outDone, s.errDone} {
		if ch == nil {
			continue
		}
		select {
		case err := <-ch:
			if err != nil {
				return fmt.Errorf("reading output: %w", err)
			}
		case <-ctx.Done():
			return fmt.Errorf("output never reached EOF: %w", ctx.Err())
		}
	}
	return nil
}

// Close closes every end and removes the FIFOs.
func (s *Stdio) Close() {
	s.closeAll.Do(func() {
		s.mu.Lock()
		closers := s.closers
		s.mu.Unlock()
		for _, c := range closers {
			c.Close()
		}
		// Let the copy goroutines notice before the files go away.
		for _, ch := range []chan error{s.outDone, s.errDone} {
			if ch != nil {
				select {
				case <-ch:
				case <-time.After(5 * time.Second):
				}
			}
		}
		os.RemoveAll(s.dir)
	})
}

// closeStdio closes the harness's ends of every FIFO set, as a daemon does
// once the tasks are deleted.
func (e *Env) closeStdio() {
	e.mu.Lock()
	sets := append([]*Stdio(nil), e.stdios...)
	e.mu.Unlock()
	for _, s := range sets {
		s.Close()
	}
}

// onlyTerminalStdin reports whether every fd target is the stdin FIFO of
// a terminal stdio set.
func (e *Env) onlyTerminalStdin(fds []string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, fd := range fds {
		ok := false
		for _, s := range e.stdios {
			if s.terminal && s.Stdin != "" && strings.Contains(fd, "-> "+s.Stdin) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// StdoutPipeSize is the kernel buffer of the stdout FIFO (F_GETPIPE_SZ),
// read through a second, never-read, read end.
func (s *Stdio) StdoutPipeSize() (int, error) {
	fd, err := syscall.Open(s.Stdout, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	const fGetPipeSz = 1032 // F_GETPIPE_SZ
	n, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fGetPipeSz, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
