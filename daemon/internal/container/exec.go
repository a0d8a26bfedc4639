package container

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
)

// MaxExecOutput caps what ExecSync keeps of each stream; the rest is read
// and dropped so the process never blocks on a full pipe.
const MaxExecOutput = 16 << 20

// ExecResult is what ExecSync returns.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
}

// ExecSync runs cmd in a running container and returns its output and
// exit code; past timeout (0: none) the process is killed and
// DeadlineExceeded returned.
func (s *Service) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (*ExecResult, error) {
	c, t, err := s.execTarget(id, cmd)
	if err != nil {
		return nil, err
	}
	spec, err := execSpec(c.Bundle, cmd, false)
	if err != nil {
		return nil, err
	}
	return s.runExec(ctx, t, &c, spec, timeout)
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

func (s *Service) runExec(ctx context.Context, t task.TaskService, c *Container, spec *anypb.Any, timeout time.Duration) (*ExecResult, error) {
	execID := names.NewID()[:32]
	set, err := fifo.NewSet(s.execFIFODir(execID), execID, false, false)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	out, err := startCapture(ctx, set)
	if err != nil {
		return nil, err
	}
	defer out.close()
	if _, err := t.Exec(ctx, &task.ExecProcessRequest{Id: c.ID, ExecId: execID, Stdout: set.Stdout, Stderr: set.Stderr, Spec: spec}); err != nil {
		return nil, fmt.Errorf("exec in %q: %w", c.ID, err)
	}
	defer t.Delete(context.WithoutCancel(ctx), &task.DeleteRequest{Id: c.ID, ExecId: execID})
	if _, err := t.Start(ctx, &task.StartRequest{Id: c.ID, ExecId: execID}); err != nil {
		return nil, fmt.Errorf("start exec in %q: %w", c.ID, err)
	}
	code, err := waitExec(ctx, t, c.ID, execID, timeout)
	if err != nil {
		return nil, err
	}
	out.wait(ctx)
	return &ExecResult{Stdout: out.stdout.Bytes(), Stderr: out.stderr.Bytes(), ExitCode: code}, nil
}

// waitExec waits for the exec's exit; past timeout it kills the exec.
func waitExec(ctx context.Context, t task.TaskService, id, execID string, timeout time.Duration) (int32, error) {
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	resp, err := t.Wait(wctx, &task.WaitRequest{Id: id, ExecId: execID})
	if err == nil {
		return int32(resp.GetExitStatus()), nil
	}
	if wctx.Err() != nil && ctx.Err() == nil {
		kctx := context.WithoutCancel(ctx)
		_, _ = t.Kill(kctx, &task.KillRequest{Id: id, ExecId: execID, Signal: 9})
		_, _ = t.Wait(kctx, &task.WaitRequest{Id: id, ExecId: execID})
		return 0, fmt.Errorf("exec timed out after %v: %w", timeout, context.DeadlineExceeded)
	}
	return 0, err
}

// capture reads an exec's stdout and stderr FIFOs, keeping at most
// MaxExecOutput bytes of each.
type capture struct {
	stdout, stderr bytes.Buffer
	readers        []io.ReadCloser
	wg             sync.WaitGroup
}

func startCapture(ctx context.Context, set *fifo.Set) (*capture, error) {
	pipes, err := set.Open(ctx)
	if err != nil {
		return nil, err
	}
	c := &capture{readers: []io.ReadCloser{pipes.Stdout, pipes.Stderr}}
	for i, dst := range []*bytes.Buffer{&c.stdout, &c.stderr} {
		c.wg.Add(1)
		go func(r io.Reader, dst *bytes.Buffer) {
			defer c.wg.Done()
			_, _ = io.Copy(&capped{w: dst, n: MaxExecOutput}, r)
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

func (c *capture) close() {
	for _, r := range c.readers {
		_ = r.Close()
	}
	c.wg.Wait()
}

type capped struct {
	w *bytes.Buffer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - c.w.Len(); room > 0 {
		c.w.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
