package container

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
)

// ExecResult is what ExecSync returns.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
	// Truncated is set when output beyond the limit was dropped.
	Truncated bool
}

// ExecSync runs cmd in a running container and returns its output, at
// most limit bytes of stdout and stderr together (the rest is read and
// dropped, so the process never blocks on a full pipe), and its exit code.
// Past timeout (0: none) the process is killed and DeadlineExceeded
// returned; a caller that cancels gets it killed too. Either way the exec
// leaves no record in the shim.
func (s *Service) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration, limit int) (*ExecResult, error) {
	c, t, err := s.execTarget(id, cmd)
	if err != nil {
		return nil, err
	}
	spec, err := execSpec(c.Bundle, cmd, false)
	if err != nil {
		return nil, err
	}
	return s.runExec(ctx, t, &c, spec, timeout, limit)
}

// execSpec is the container's process with the exec's command.
func execSpec(bundlePath string, cmd []string, tty bool) (*anypb.Any, error) {
	spec, err := bundle.ReadSpec(bundlePath)
	if err != nil {
		return nil, err
	}
	p := *spec.Process
	p.Args, p.Terminal = cmd, tty
	b, err := json.Marshal(&p)
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", Value: b}, nil
}

func (s *Service) runExec(ctx context.Context, t task.TaskService, c *Container, spec *anypb.Any, timeout time.Duration, limit int) (*ExecResult, error) {
	execID := names.NewID()[:32]
	set, err := fifo.NewSet(s.execFIFODir(execID), execID, false, false)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	out, err := startCapture(ctx, set, limit)
	if err != nil {
		return nil, err
	}
	defer out.close()
	st := execAdded // an Exec cut short by the caller may have added it
	defer func() {
		if err := endExec(ctx, t, c.ID, execID, st); err != nil {
			slog.Warn("end an ExecSync process", "id", c.ID, "exec", execID, "error", err)
		}
	}()
	if _, err := t.Exec(ctx, &task.ExecProcessRequest{Id: c.ID, ExecId: execID, Stdout: set.Stdout, Stderr: set.Stderr, Spec: spec}); err != nil {
		return nil, execAddError(ctx, t, c.ID, err)
	}
	st = execStarted // a Start that failed late may have run it
	if err := startExec(ctx, t, c.ID, execID); err != nil {
		return nil, err
	}
	code, err := waitExec(ctx, t, c.ID, execID, timeout)
	if err != nil {
		return nil, err
	}
	st = execExited
	out.wait(ctx)
	stdout, stderr, truncated := out.result()
	return &ExecResult{Stdout: stdout, Stderr: stderr, ExitCode: code, Truncated: truncated}, nil
}

// waitExec waits for the exec's exit, at most timeout (0: no limit). Past
// it the error is DeadlineExceeded naming the timeout; the caller's own
// cancellation or deadline is returned as is. The process is left to
// endExec.
func waitExec(ctx context.Context, t task.TaskService, id, execID string, timeout time.Duration) (int32, error) {
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	resp, err := t.Wait(wctx, &task.WaitRequest{Id: id, ExecId: execID})
	switch {
	case err == nil:
		return int32(resp.GetExitStatus()), nil
	case ctx.Err() != nil:
		return 0, fmt.Errorf("exec in %q: %w", id, ctx.Err())
	case wctx.Err() != nil:
		return 0, fmt.Errorf("exec timed out after %v: %w", timeout, context.DeadlineExceeded)
	}
	return 0, fmt.Errorf("wait for exec in %q: %w", id, err)
}

// capture reads an exec's stdout and stderr FIFOs, keeping at most
// limit bytes of both together, first come first kept.
type capture struct {
	budget         *budget
	stdout, stderr bytes.Buffer
	readers        []io.ReadCloser
	wg             sync.WaitGroup
}

func startCapture(ctx context.Context, set *fifo.Set, limit int) (*capture, error) {
	// Not cancelled with the caller: a shim that opens its ends during
	// Start would wait for a reader that gave up; close ends the opens.
	pipes, err := set.Open(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	c := &capture{budget: &budget{left: limit}, readers: []io.ReadCloser{pipes.Stdout, pipes.Stderr}}
	for i, dst := range []*bytes.Buffer{&c.stdout, &c.stderr} {
		c.wg.Add(1)
		go func(r io.Reader, dst *bytes.Buffer) {
			defer c.wg.Done()
			_, _ = io.Copy(&capped{w: dst, b: c.budget}, r)
		}(c.readers[i], dst)
	}
	return c, nil
}

// wait returns once both streams ended (the shim drained them before the
// exit was reported, and closes them at the exec's deletion).
func (c *capture) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
}

// result stops the copies and returns what was kept of each stream, and
// whether any output was dropped.
func (c *capture) result() (stdout, stderr []byte, truncated bool) {
	c.close()
	return c.stdout.Bytes(), c.stderr.Bytes(), c.budget.dropped
}

func (c *capture) close() {
	for _, r := range c.readers {
		_ = r.Close()
	}
	c.wg.Wait()
}

// budget is the room left for output, shared by both streams.
type budget struct {
	mu      sync.Mutex
	left    int  // guarded by mu
	dropped bool // guarded by mu
}

// capped writes into w what the budget still allows and drops the rest.
type capped struct {
	w *bytes.Buffer // guarded by b.mu
	b *budget
}

func (c *capped) Write(p []byte) (int, error) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	n := min(c.b.left, len(p))
	c.w.Write(p[:n])
	c.b.left -= n
	c.b.dropped = c.b.dropped || n < len(p)
	return len(p), nil
}
