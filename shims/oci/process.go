package oci

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// process is a container's init process or one of its execs.
type process struct {
	execID string // "" for the init process
	c      *container
	stdio  stdio
	spec   *specs.Process // exec only

	// exited is closed once the exit is recorded (after the output is
	// drained); Wait blocks on it.
	exited chan struct{}
	// ops is held by the state-changing call running on the process.
	ops opLock

	mu         sync.Mutex
	state      status        // guarded by mu
	pid        int           // guarded by mu
	exitStatus int           // guarded by mu
	exitedAt   time.Time     // guarded by mu
	io         *processIO    // guarded by mu
	starting   chan struct{} // guarded by mu; non-nil while Create or Start runs
	pidfd      int           // guarded by mu; -1 when none is open
}

func newProcess(c *container, execID string, s stdio, spec *specs.Process) *process {
	return &process{execID: execID, c: c, stdio: s, spec: spec, exited: make(chan struct{}), ops: newOpLock(), pidfd: -1}
}

func (p *process) isInit() bool { return p.execID == "" }

// snapshot returns the fields State reports, under the lock.
func (p *process) snapshot() (st status, pid, exitStatus int, exitedAt time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.pid, p.exitStatus, p.exitedAt
}

func (p *process) getState() status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

func (p *process) getPid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// check runs allow for op under the lock.
func (p *process) check(op string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return allow(op, p.state)
}

// setState moves the process to s unless it has stopped meanwhile.
func (p *process) setState(s status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != stopped && p.state != deleted {
		p.state = s
	}
}

// markDeleted is the last state: a call that waited for the op lock of a
// deleted process finds it gone (NotFound).
func (p *process) markDeleted() {
	p.mu.Lock()
	p.state = deleted
	p.mu.Unlock()
}

// lockOps takes the op lock; a process deleted meanwhile is NotFound.
func (p *process) lockOps(ctx context.Context) error {
	if err := p.ops.lock(ctx); err != nil {
		return err
	}
	if p.getState() == deleted {
		p.ops.unlock()
		return fmt.Errorf("process %q of task %q is deleted: %w", p.publicID(), p.c.id, errdefs.ErrNotFound)
	}
	return nil
}

// beginStart marks a Create or Start in progress: an exit reaped meanwhile
// waits for the create or start event before it is reported. The caller
// holds the op lock; end closes this call's own channel, so a second call
// can never close a channel twice or close nil.
func (p *process) beginStart() (end func()) {
	ch := make(chan struct{})
	p.mu.Lock()
	p.starting = ch
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		if p.starting == ch {
			p.starting = nil
		}
		p.mu.Unlock()
		close(ch)
	}
}

// waitStarted returns once no Start of p is in progress.
func (p *process) waitStarted(ctx context.Context) {
	p.mu.Lock()
	ch := p.starting
	p.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// wait blocks until p has exited or ctx ends.
func (p *process) wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// setPid records the pid and opens a pidfd for it, so later signals reach
// this process and never a later one that reuses the pid.
func (p *process) setPid(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pid = pid
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		p.pidfd = fd
	}
}

func (p *process) setIO(pio *processIO) {
	p.mu.Lock()
	p.io = pio
	p.mu.Unlock()
}

func (p *process) getIO() *processIO {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.io
}

// drainIO waits until the output written before the exit is copied out.
func (p *process) drainIO(ctx context.Context) {
	if pio := p.getIO(); pio != nil {
		pio.drain(ctx)
	}
}

// signal sends sig through the process' pidfd. ok is false when there is
// no pidfd (the caller falls back to the runtime); ESRCH means it exited.
func (p *process) signal(sig unix.Signal) (ok bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pidfd < 0 {
		return false, nil
	}
	return true, unix.PidfdSendSignal(p.pidfd, sig, nil, 0)
}

// closePidfd releases the pidfd once the exit is recorded.
func (p *process) closePidfd() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pidfd >= 0 {
		unix.Close(p.pidfd)
		p.pidfd = -1
	}
}
