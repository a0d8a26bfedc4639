package streaming

import (
	"context"
	"io"
	"strconv"

	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// Runtime runs the sessions the streaming library accepted.
type Runtime struct {
	Containers *container.Service
	Pods       *pod.Service
}

// Exec runs cmd in the container; a non-zero exit becomes the exit error
// the library reports to the client with its code.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	code, err := r.Containers.ExecStream(ctx, id, cmd, session(in, out, errw, tty, resize))
	if err != nil {
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: exitCode(code), Code: int(code)}
	}
	return nil
}

// Attach joins the container's stdio.
func (r *Runtime) Attach(ctx context.Context, id string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return r.Containers.Attach(ctx, id, session(in, out, errw, tty, resize))
}

// session converts the library's stream ends; nil interfaces stay nil.
func session(in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) container.Session {
	s := container.Session{TTY: tty}
	if in != nil {
		s.Stdin = in
	}
	if out != nil {
		s.Stdout = out
	}
	if errw != nil && !tty {
		s.Stderr = errw
	}
	if tty {
		s.Resize = resize
	}
	return s
}

type exitCode int32

func (e exitCode) Error() string {
	return "command terminated with exit code " + strconv.Itoa(int(e))
}
