package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Exec adds an exec process to a running task; Start runs it. An exec id
// in use is AlreadyExists. It holds the task's op lock, so it never adds
// to a task a racing Delete is removing.
func (s *Service) Exec(ctx context.Context, r *task.ExecProcessRequest) (*emptypb.Empty, error) {
	c, unlock, err := s.lockInit(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := bundle.ValidateID(r.GetExecId()); err != nil {
		return nil, fmt.Errorf("exec id: %w", err)
	}
	if err := c.init.check("exec"); err != nil {
		return nil, err
	}
	spec, err := decodeProcessSpec(r.GetSpec().GetValue())
	if err != nil {
		return nil, err
	}
	sio := stdio{stdin: r.GetStdin(), stdout: r.GetStdout(), stderr: r.GetStderr(), terminal: r.GetTerminal()}
	if err := c.addExec(newProcess(c, r.GetExecId(), sio, spec)); err != nil {
		return nil, err
	}
	s.publish(TopicTaskExecAdded, &events.TaskExecAdded{ContainerId: c.id, ExecId: r.GetExecId()})
	return &emptypb.Empty{}, nil
}

func decodeProcessSpec(b []byte) (*specs.Process, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("exec without a process spec: %w", errdefs.ErrInvalidArgument)
	}
	var spec specs.Process
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("exec process spec: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if len(spec.Args) == 0 && spec.CommandLine == "" {
		return nil, fmt.Errorf("exec process spec has no args: %w", errdefs.ErrInvalidArgument)
	}
	return &spec, nil
}

// startExec runs `runtime exec --detach` for an added exec process.
func (s *Service) startExec(ctx context.Context, p *process) (*task.StartResponse, error) {
	c := p.c
	if err := c.init.check("exec"); err != nil {
		return nil, err
	}
	pio, err := newProcessIO(s.ctx, ioTarget{c.id, s.cfg.Namespace}, p.stdio, c.opts)
	if err != nil {
		return nil, err
	}
	p.setIO(pio)
	defer p.beginStart()()
	pid, err := s.runExec(ctx, p, pio)
	if err != nil {
		p.setIO(nil)
		pio.close()
		return nil, execError(c, err)
	}
	p.setPid(pid)
	p.setState(running)
	s.publish(TopicTaskExecStarted, &events.TaskExecStarted{ContainerId: c.id, ExecId: p.execID, Pid: uint32(pid)})
	return &task.StartResponse{Pid: uint32(pid)}, nil
}

// execError classifies a failed `runtime exec`: an init that ended
// before or while the exec ran (a racing stop; the shim may not have
// reaped it yet) is a precondition that no longer holds. runc says
// "cannot exec in a stopped container" before, crun "is not running";
// during, runc fails to join the init's namespaces, so the init's own
// state decides.
func execError(c *container, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "stopped container") || strings.Contains(msg, "is not running") || c.init.hasExited() || ended(c.init.getPid()) {
		return fmt.Errorf("task %q is not running: %w: %w", c.id, err, errdefs.ErrFailedPrecondition)
	}
	return err
}

// ended reports whether process pid is gone or a zombie.
func ended(pid int) bool {
	if pid <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

func (s *Service) runExec(ctx context.Context, p *process, pio *processIO) (int, error) {
	c := p.c
	pidFile := execPidFile(c, p.execID)
	opts := &runc.ExecOpts{IO: pio.runtimeIO(), PidFile: pidFile, Detach: true}
	if cs := pio.consoleSocket(); cs != nil {
		opts.ConsoleSocket = cs
	}
	return s.startWithPid(ctx, p, pio, pidStart{
		op:      "exec",
		pidFile: pidFile,
		run:     func() error { return c.runtime.Exec(ctx, c.id, *p.spec, opts) },
		abandon: func(pid int) { _ = unix.Kill(pid, unix.SIGKILL) }, // running without its stdio
	})
}

// execPidFile is where the runtime writes an exec process' pid; Delete
// removes it, so execs leave nothing in the bundle.
func execPidFile(c *container, execID string) string {
	return filepath.Join(c.bundle, execID+".pid")
}
