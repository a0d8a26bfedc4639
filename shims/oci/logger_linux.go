package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

const (
	// loggerReadyTimeout bounds how long a logging binary may take to say
	// it is ready.
	loggerReadyTimeout = 10 * time.Second
	// loggerExitTimeout bounds the wait for a logging binary to finish
	// once its task is deleted; then it is killed.
	loggerExitTimeout = 5 * time.Second
)

// binaryLogger is a logging binary named by a binary:// stdio URI, run as
// containerd runs it: the process' stdout on fd 3, stderr on fd 4, and fd 5
// closed (or written) when it is ready; the URI's query becomes its
// arguments, the task its CONTAINER_ID and CONTAINER_NAMESPACE.
type binaryLogger struct {
	pidfd int
}

// isBinaryURI reports whether a stdio name is a binary:// URI.
func isBinaryURI(name string) bool {
	u, err := url.Parse(name)
	return err == nil && u.Scheme == "binary"
}

// startLogger starts the logging binary and returns the write ends the
// process gets as its stdout and stderr.
func startLogger(ctx context.Context, name string, t ioTarget) (_ *binaryLogger, stdout, stderr *os.File, err error) {
	u, err := url.Parse(name)
	if err != nil || u.Path == "" {
		return nil, nil, nil, fmt.Errorf("logging binary URI %q: %w", name, errdefs.ErrInvalidArgument)
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, errors.Join(err, outR.Close(), outW.Close(), errR.Close(), errW.Close())
	}
	files = []*os.File{outR, errR, readyR, readyW}
	cmd := exec.Command(u.Path, loggerArgs(u)...)
	cmd.Env = append(os.Environ(), "CONTAINER_ID="+t.id, "CONTAINER_NAMESPACE="+t.namespace)
	cmd.ExtraFiles = []*os.File{outR, errR, readyW}
	if err := cmd.Start(); err != nil {
		outW.Close()
		errW.Close()
		return nil, nil, nil, fmt.Errorf("start logging binary %s: %w", u.Path, err)
	}
	lg := &binaryLogger{pidfd: -1}
	if fd, err := unix.PidfdOpen(cmd.Process.Pid, 0); err == nil {
		lg.pidfd = fd
	}
	// The reaper collects its exit; os/exec's own handle is not needed.
	_ = cmd.Process.Release()
	readyW.Close()
	files = files[:3]
	if err := awaitReady(ctx, readyR); err != nil {
		lg.stop(0)
		outW.Close()
		errW.Close()
		return nil, nil, nil, err
	}
	return lg, outW, errW, nil
}

// loggerArgs turns ?key=value&flag into "key value flag", as containerd does.
func loggerArgs(u *url.URL) []string {
	var args []string
	for k, vs := range u.Query() {
		args = append(args, k)
		if len(vs) > 0 && vs[0] != "" {
			args = append(args, vs[0])
		}
	}
	return args
}

// awaitReady waits for the logger to write to or close fd 5.
func awaitReady(ctx context.Context, ready *os.File) error {
	deadline := time.Now().Add(loggerReadyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := ready.SetReadDeadline(deadline); err != nil {
		return err
	}
	if _, err := ready.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("logging binary not ready: %w", err)
	}
	return nil
}

// stop waits up to timeout for the logger to finish its input, then
// kills it. The shim's reaper collects its exit.
func (l *binaryLogger) stop(timeout time.Duration) {
	if l.pidfd < 0 {
		return
	}
	defer unix.Close(l.pidfd)
	fds := []unix.PollFd{{Fd: int32(l.pidfd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, int(timeout.Milliseconds())); err == nil && n > 0 {
		return
	}
	_ = unix.PidfdSendSignal(l.pidfd, unix.SIGKILL, nil, 0)
}
