package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
)

// ExecStream runs cmd in a running container with a streaming client's
// stdio and returns the exit code once the process exited and its output
// was delivered. A client that goes away (its output cannot be written)
// gets the process killed; its stdin's end closes the process' stdin.
func (s *Service) ExecStream(ctx context.Context, id string, cmd []string, sess Session) (int32, error) {
	c, t, err := s.execTarget(id, cmd)
	if err != nil {
		return 0, err
	}
	spec, err := execSpec(c.Bundle, cmd, sess.TTY)
	if err != nil {
		return 0, err
	}
	execID := names.NewID()[:32]
	set, err := fifo.NewSet(s.execFIFODir(execID), execID, sess.Stdin != nil, sess.TTY)
	if err != nil {
		return 0, err
	}
	defer set.Close()
	pipes, err := set.Open(context.WithoutCancel(ctx)) // as startCapture's
	if err != nil {
		return 0, err
	}
	defer pipes.Close()
	e := &execSession{t: t, id: id, execID: execID} // st execAdded: an Exec cut short may have added it
	defer func() {
		// After a failure or a client gone: kill, wait, delete.
		if err := endExec(ctx, t, id, execID, e.st); err != nil {
			slog.Warn("end an exec session's process", "id", id, "exec", execID, "error", err)
		}
	}()
	if _, err := t.Exec(ctx, &task.ExecProcessRequest{Id: id, ExecId: execID, Terminal: sess.TTY,
		Stdin: set.Stdin, Stdout: set.Stdout, Stderr: set.Stderr, Spec: spec}); err != nil {
		return 0, fmt.Errorf("exec in %q: %w", id, err)
	}
	return e.run(ctx, pipes, sess)
}

// execSession is one exec process and its client.
type execSession struct {
	t          task.TaskService
	id, execID string
	killOnce   sync.Once
	st         execState // set by run only
}

func (e *execSession) run(ctx context.Context, pipes *fifo.Pipes, sess Session) (int32, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out sync.WaitGroup
	e.copyOut(ctx, &out, pipes.Stdout, sess.Stdout)
	e.copyOut(ctx, &out, pipes.Stderr, sess.Stderr)
	e.st = execStarted // a Start that failed late may have run it
	if err := startExec(ctx, e.t, e.id, e.execID); err != nil {
		return 0, err
	}
	forwardResizes(ctx, e.t, e.id, e.execID, sess.Resize)
	if sess.Stdin != nil {
		go e.copyIn(ctx, pipes.Stdin, sess.Stdin)
	}
	resp, err := e.t.Wait(ctx, &task.WaitRequest{Id: e.id, ExecId: e.execID})
	if err != nil {
		return 0, err // endExec kills it
	}
	// The shim drained the output before it reported the exit; deleting
	// the exec closes its ends of the FIFOs, which ends the copies.
	e.st = execExited
	if endExec(ctx, e.t, e.id, e.execID, e.st) == nil {
		e.st = execDeleted
	}
	out.Wait()
	return int32(resp.GetExitStatus()), nil
}

// copyOut copies one output stream to the client; when the client cannot
// take it any more the process is killed and the rest discarded.
func (e *execSession) copyOut(ctx context.Context, wg *sync.WaitGroup, src io.Reader, dst io.Writer) {
	if src == nil {
		return
	}
	if dst == nil {
		dst = io.Discard
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil && !errors.Is(err, io.EOF) {
			e.kill(context.WithoutCancel(ctx))
			_, _ = io.Copy(io.Discard, src)
		}
	}()
}

// copyIn feeds the client's stdin to the process and closes the process'
// stdin when the client's ends: closing our end is what a shim that copies
// until EOF needs, CloseIO what a shim that holds the FIFO open needs.
func (e *execSession) copyIn(ctx context.Context, dst io.WriteCloser, src io.Reader) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = closeStdin(e.t, e.id, e.execID)(context.WithoutCancel(ctx))
}

func (e *execSession) kill(ctx context.Context) {
	e.killOnce.Do(func() {
		_, _ = e.t.Kill(ctx, &task.KillRequest{Id: e.id, ExecId: e.execID, Signal: 9})
	})
}
