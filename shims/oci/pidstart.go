package oci

import (
	"context"

	runc "github.com/containerd/go-runc"
)

// pidStart is one runtime call that starts a process and leaves its pid
// in a file: `create`, `restore` or `exec --detach`.
type pidStart struct {
	op      string       // the runtime command, for errors
	pidFile string       // where the runtime writes the pid
	run     func() error // the runtime call
	// started, when set, runs once the call succeeded, before the pid is
	// read (Create and restore register their undo there).
	started func()
	// abandon, when set, runs for a process whose stdio failed after it
	// started; its exit is then no process' exit.
	abandon func(pid int)
}

// startWithPid runs ps for p and returns the pid. The exit router hears
// of the call before it runs, so an exit reaped before the pid is known
// is kept and matched, never lost.
func (s *Service) startWithPid(ctx context.Context, p *process, pio *processIO, ps pidStart) (int, error) {
	s.exits.begin()
	err := ps.run()
	pid := 0
	if err == nil {
		if ps.started != nil {
			ps.started()
		}
		pid, err = runc.ReadPidFile(ps.pidFile)
	}
	s.exits.end(p, pid)
	if err != nil {
		return 0, runtimeError(p.c.bundle, ps.op, err)
	}
	if err := pio.afterStart(ctx); err != nil {
		s.exits.forget(pid)
		if ps.abandon != nil {
			ps.abandon(pid)
		}
		return 0, err
	}
	return pid, nil
}
