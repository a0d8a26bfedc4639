package oci

import (
	"context"
	"sync"
	"time"

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

	mu         sync.Mutex
	state      status        // guarded by mu
	pid        int           // guarded by mu
	exitStatus int           // guarded by mu
	exitedAt   time.Time     // guarded by mu
	io         *processIO    // guarded by mu
	starting   chan struct{} // guarded by mu; non-nil while Start runs
	pidfd      int           // guarded by mu; -1 when none is open
}

func newProcess(c *container, execID string, s stdio, spec *specs.Process) *process {
	return &process{execID: execID, c: c, stdio: s, spec: spec, exited: make(chan struct{}), pidfd: -1}
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

// beginStart marks a Start in progress: an exit reaped meanwhile waits for
// the start event before it is reported.
func (p *process) beginStart() {
	p.mu.Lock()
	p.starting = make(chan struct{})
	p.mu.Unlock()
}

func (p *process) endStart() {
	p.mu.Lock()
	close(p.starting)
	p.starting = nil
	p.mu.Unlock()
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
