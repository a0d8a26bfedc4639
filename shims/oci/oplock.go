package oci

import (
	"context"
	"fmt"
)

// opLock serialises the state-changing calls of one process (Create,
// Start, Delete, CloseIO; for an init process also Exec, Pause, Resume,
// Update and Checkpoint of its task), so that a call retried while the
// first still runs sees the state the first left and answers from it.
//
// Kill, Wait, State, Pids, Stats and ResizePty never take it: Wait and
// the read-only calls must answer while a long call runs, and Kill must
// reach a process whose Start (a runtime call that can hang in a hook) is
// in progress. Kill is safe without it: it signals through the pidfd
// opened at Create, which is closed only after the exit is recorded, so a
// signal never reaches another process that reused the pid.
//
// It is a channel rather than a sync.Mutex so a caller waiting behind a
// long call gives up when its context ends.
type opLock chan struct{}

func newOpLock() opLock { return make(opLock, 1) }

// lock waits until no other state-changing call of the process runs, or
// ctx ends.
func (l opLock) lock(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the call in progress on the process: %w", ctx.Err())
	}
}

func (l opLock) unlock() { <-l }

// lockProcess returns the process a request names with its op lock held,
// or NotFound when it was deleted while the caller waited for the lock.
// The caller runs unlock.
func (s *Service) lockProcess(ctx context.Context, id, execID string) (p *process, unlock func(), err error) {
	p, err = s.process(id, execID)
	if err != nil {
		return nil, nil, err
	}
	if err := p.lockOps(ctx); err != nil {
		return nil, nil, err
	}
	return p, p.ops.unlock, nil
}

// lockInit is lockProcess for the init process of a task, for the calls
// that act on the whole task.
func (s *Service) lockInit(ctx context.Context, id string) (*container, func(), error) {
	p, unlock, err := s.lockProcess(ctx, id, "")
	if err != nil {
		return nil, nil, err
	}
	return p.c, unlock, nil
}
