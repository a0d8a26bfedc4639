package container

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"

	"github.com/runlet/runlet/daemon/internal/cio"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Session is one streaming client's ends: nil fields are not streamed.
type Session struct {
	Stdin          io.Reader
	Stdout, Stderr io.WriteCloser
	TTY            bool
	// Resize delivers the client's terminal sizes; nil without a terminal.
	Resize <-chan remotecommand.TerminalSize
}

// running returns a running container and its pod's task service.
func (s *Service) running(id string) (Container, task.TaskService, error) {
	c, t, err := s.liveTask(id)
	if err == nil && c.State != Running {
		err = fmt.Errorf("container %q is %s, not running: %w", id, c.State, errdefs.ErrFailedPrecondition)
	}
	return c, t, err
}

// forwardResizes resizes the terminal of the container's process execID
// ("" for its init) to every size the client sends, until ctx ends.
func forwardResizes(ctx context.Context, t task.TaskService, id, execID string, sizes <-chan remotecommand.TerminalSize) {
	if sizes == nil {
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sz, ok := <-sizes:
				if !ok {
					return
				}
				_, _ = t.ResizePty(ctx, &task.ResizePtyRequest{Id: id, ExecId: execID,
					Width: uint32(sz.Width), Height: uint32(sz.Height)})
			}
		}
	}()
}

// closeStdin closes the stdin of the container's process execID for good.
func closeStdin(t task.TaskService, id, execID string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := t.CloseIO(ctx, &task.CloseIORequest{Id: id, ExecId: execID, Stdin: true})
		return err
	}
}

// CheckExec refuses an exec session up front: InvalidArgument without a
// command, NotFound for an unknown container, FailedPrecondition for one
// that is not running.
func (s *Service) CheckExec(id string, cmd []string) error {
	_, _, err := s.execTarget(id, cmd)
	return err
}

// execTarget is the running container an exec of cmd goes to, and its
// pod's task service.
func (s *Service) execTarget(id string, cmd []string) (Container, task.TaskService, error) {
	if len(cmd) == 0 {
		return Container{}, nil, fmt.Errorf("exec without a command: %w", errdefs.ErrInvalidArgument)
	}
	return s.running(id)
}

// CheckAttach refuses an attach session up front, as CheckExec does, and
// InvalidArgument when it asks for a stdin or terminal the container lacks.
func (s *Service) CheckAttach(id string, stdin, tty bool) error {
	_, err := s.attachTarget(id, stdin, tty)
	return err
}

// attachTarget is the running container an attach goes to, with its
// config and its pod's task service.
func (s *Service) attachTarget(id string, stdin, tty bool) (*attachee, error) {
	c, t, err := s.running(id)
	if err != nil {
		return nil, err
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	if stdin && !cfg.GetStdin() {
		return nil, fmt.Errorf("attach with stdin to container %q, which has none: %w", id, errdefs.ErrInvalidArgument)
	}
	if tty != c.Terminal {
		return nil, fmt.Errorf("attach with tty=%v to container %q with tty=%v: %w", tty, id, c.Terminal, errdefs.ErrInvalidArgument)
	}
	a := &attachee{c: c, cfg: cfg, t: t, stdio: s.stdio(id)}
	if (a.stdio == nil || !a.stdio.Attachable()) && c.LogPath == "" {
		return nil, fmt.Errorf("container %q has neither stdin, a terminal nor a log to follow: %w", id, errdefs.ErrFailedPrecondition)
	}
	return a, nil
}

// attachee is what an attach session joins.
type attachee struct {
	c     Container
	cfg   *runtimeapi.ContainerConfig
	t     task.TaskService
	stdio *cio.IO // nil or not attachable: follow the log instead
}

// stdio is the daemon's side of a container's stdio, nil when it holds none.
func (s *Service) stdio(id string) *cio.IO {
	s.mu.Lock()
	defer s.mu.Unlock()
	io, _ := s.io[id].(*cio.IO)
	return io
}

// execFIFODir is an exec's own FIFO directory (its generated id, shorter
// than a container's): no other exec or container removes it meanwhile.
func (s *Service) execFIFODir(execID string) string {
	return filepath.Join(s.dir("fifo"), execID)
}
