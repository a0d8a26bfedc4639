package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/fifo"
	"github.com/runlet/runlet/proto/runc/options"
)

// processIO connects a process' stdio to what the client named: pipes (or
// a pty) on the process side, copiers to and from FIFOs or files on the
// client side. Copies run for the service's lifetime, not the RPC's.
//
// Setup (newProcessIO, afterStart) happens before the process is visible
// to other calls; after it, mu serializes resize, closeStdin and close.
type processIO struct {
	life    context.Context
	sio     stdio
	pipes   *pipeSet     // nil with a terminal
	socket  *runc.Socket // console socket, terminal only
	pty     *os.File     // the terminal's master, non-blocking and pollable
	stdin   *fifo.StdinCopier
	outputs []*fifo.Copier
	logger  *binaryLogger   // binary:// stdio only
	criLog  *fifo.LogWriter // crilog:// stdio only

	mu     sync.Mutex
	closed bool // guarded by mu
}

// ioTarget names the task a process belongs to, for logging binaries.
type ioTarget struct{ id, namespace string }

// newProcessIO prepares stdio for one process; life bounds the copies.
func newProcessIO(life context.Context, t ioTarget, sio stdio, opts *options.Options) (_ *processIO, err error) {
	pio := &processIO{life: life, sio: sio}
	defer func() {
		if err != nil {
			pio.close()
		}
	}()
	if sio.terminal {
		if pio.socket, err = runc.NewTempConsoleSocket(); err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		return pio, nil
	}
	if isBinaryURI(sio.stdout) {
		return pio, pio.logToBinary(life, t)
	}
	if pio.pipes, err = newPipeSet(sio, int(opts.GetIoUid()), int(opts.GetIoGid())); err != nil {
		return nil, err
	}
	if err := pio.copyPipes(); err != nil {
		return nil, err
	}
	return pio, nil
}

// logToBinary hands the process' output to a logging binary: the process
// writes straight into the binary's pipes, the shim copies only stdin.
func (pio *processIO) logToBinary(ctx context.Context, t ioTarget) error {
	lg, stdout, stderr, err := startLogger(ctx, pio.sio.stdout, t)
	if err != nil {
		return err
	}
	pio.logger = lg
	if pio.pipes, err = newLoggerPipes(pio.sio, stdout, stderr); err != nil {
		return err
	}
	if pio.pipes.stdin != nil {
		return pio.copyStdin(pio.pipes.stdin)
	}
	return nil
}

// copyPipes starts copying the process' output pipes and its stdin FIFO.
func (pio *processIO) copyPipes() error {
	for _, s := range []struct {
		name   string
		src    *os.File
		stream fifo.Stream
	}{{pio.sio.stdout, pio.pipes.stdout, fifo.StreamStdout}, {pio.sio.stderr, pio.pipes.stderr, fifo.StreamStderr}} {
		if s.src == nil {
			continue
		}
		if err := pio.copyOutput(s.name, s.src, s.stream); err != nil {
			return err
		}
	}
	if pio.pipes.stdin != nil {
		return pio.copyStdin(pio.pipes.stdin)
	}
	return nil
}

func (pio *processIO) copyOutput(name string, src *os.File, stream fifo.Stream) error {
	dst, err := pio.openOutput(name, stream)
	if err != nil {
		return err
	}
	c, err := fifo.NewCopier(dst, src)
	if err != nil {
		dst.Close()
		return err
	}
	c.Start(pio.life)
	pio.outputs = append(pio.outputs, c)
	return nil
}

func (pio *processIO) copyStdin(dst io.WriteCloser) error {
	in, err := fifo.NewStdinCopier(pio.sio.stdin, dst)
	if err != nil {
		dst.Close()
		return err
	}
	in.Start(pio.life)
	pio.stdin = in
	return nil
}

// openOutput opens where one output stream goes: a stream of the
// process' CRI log, a FIFO, or a file.
func (pio *processIO) openOutput(name string, stream fifo.Stream) (io.WriteCloser, error) {
	_, isLog, err := criLogPath(name)
	if err != nil {
		return nil, err
	}
	if isLog {
		return pio.criLogStream(name, stream)
	}
	return openPlainOutput(name)
}

// criLogStream opens the process' CRI log once; stdout and stderr share it.
func (pio *processIO) criLogStream(name string, stream fifo.Stream) (io.WriteCloser, error) {
	if pio.criLog == nil {
		lw, err := fifo.OpenLogURI(name) // beneath the pod's log directory
		if err != nil {
			return nil, err
		}
		pio.criLog = lw
	}
	return pio.criLog.Stream(stream), nil
}

// reopenLog reopens the CRI log (CRI ReopenContainerLog, after rotation).
func (pio *processIO) reopenLog() error {
	pio.mu.Lock()
	defer pio.mu.Unlock()
	if pio.criLog == nil || pio.closed {
		return fmt.Errorf("process has no CRI log: %w", errdefs.ErrFailedPrecondition)
	}
	return pio.criLog.Reopen()
}

func openPlainOutput(name string) (io.WriteCloser, error) {
	path, isFIFO, err := outputTarget(name)
	if err != nil {
		return nil, err
	}
	if isFIFO {
		return fifo.OpenOutput(path)
	}
	// As containerd does for file:// stdio, a missing directory is made.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("stdio file directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open stdio file: %w", err)
	}
	return f, nil
}

// runtimeIO is what the runtime command gets as the process' stdio.
func (pio *processIO) runtimeIO() runc.IO {
	if pio.pipes == nil {
		return nil
	}
	return pio.pipes
}

func (pio *processIO) consoleSocket() *runc.Socket { return pio.socket }

// afterStart runs once the runtime call returned: the process' ends of the
// pipes are closed here, and a terminal's master is received and copied.
func (pio *processIO) afterStart(ctx context.Context) error {
	if pio.pipes != nil {
		pio.pipes.CloseAfterStart()
		return nil
	}
	pty, err := receivePty(pio.socket)
	pio.socket.Close()
	pio.socket = nil
	if err != nil {
		return err
	}
	pio.pty = pty
	return pio.copyTerminal()
}

// receivePty takes the master the runtime sent over the console socket and
// makes it a pollable file: non-blocking before os.NewFile, so the copiers
// read and write it through the poller and never park a thread.
func receivePty(socket *runc.Socket) (*os.File, error) {
	master, err := socket.ReceiveMaster()
	if err != nil {
		return nil, fmt.Errorf("receive the terminal: %w", err)
	}
	defer master.Close()
	fd, err := unix.FcntlInt(master.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup terminal: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("terminal: %w", err)
	}
	return os.NewFile(uintptr(fd), "pty"), nil
}

// copyTerminal copies the terminal's output to stdout and stdin into it.
func (pio *processIO) copyTerminal() error {
	if pio.sio.stdout != "" {
		if err := pio.copyOutput(pio.sio.stdout, pio.pty, fifo.StreamStdout); err != nil {
			return err
		}
	}
	if pio.sio.stdin != "" {
		return pio.copyStdin(nopCloser{pio.pty})
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// drain waits until the output the process wrote before exiting is out.
func (pio *processIO) drain(ctx context.Context) {
	for _, c := range pio.outputs {
		if err := c.Drain(ctx); err != nil {
			slog.Debug("output not fully drained", "error", err)
		}
	}
}

// closeStdin delivers what the client wrote, then closes the process' stdin.
func (pio *processIO) closeStdin(ctx context.Context) error {
	pio.mu.Lock()
	defer pio.mu.Unlock()
	if pio.stdin == nil || pio.closed {
		return nil
	}
	return pio.stdin.CloseStdin(ctx)
}

func (pio *processIO) resize(width, height uint32) error {
	pio.mu.Lock()
	defer pio.mu.Unlock()
	if pio.pty == nil || pio.closed {
		return errors.New("no terminal")
	}
	raw, err := pio.pty.SyscallConn()
	if err != nil {
		return err
	}
	ws := &unix.Winsize{Col: uint16(width), Row: uint16(height)}
	var ioctlErr error
	if err := raw.Control(func(fd uintptr) { ioctlErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return err
	}
	if ioctlErr != nil {
		return fmt.Errorf("resize terminal: %w", ioctlErr)
	}
	return nil
}

// close stops every copy and releases every fd; it is idempotent.
func (pio *processIO) close() {
	pio.mu.Lock()
	defer pio.mu.Unlock()
	if pio.closed {
		return
	}
	pio.closed = true
	if pio.stdin != nil {
		pio.stdin.Close()
	}
	for _, c := range pio.outputs {
		c.Close()
	}
	pio.outputs = nil
	if pio.pty != nil {
		pio.pty.Close()
		pio.pty = nil
	}
	if pio.socket != nil {
		pio.socket.Close()
		pio.socket = nil
	}
	if pio.pipes != nil {
		pio.pipes.Close()
	}
	if pio.logger != nil {
		pio.logger.stop(loggerExitTimeout)
	}
	if pio.criLog != nil {
		pio.criLog.Close()
	}
}
