// Package reaper collects the exits of every child the shim owns.
//
// A shim is a child subreaper: orphaned container processes are re-parented
// to it, so it must wait for them itself. The Monitor reaps on SIGCHLD with
// wait4(-1) and broadcasts each exit to its subscribers. It also implements
// go-runc's ProcessMonitor, so runc/crun invocations and container processes
// share one reaper and no exit status is lost to a racing wait.
package reaper

import (
	"errors"
	"os/exec"
	"sync"
	"time"

	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
)

// Monitor reaps children and fans their exits out to subscribers.
type Monitor struct {
	mu   sync.Mutex
	subs map[chan runc.Exit]*Subscription // guarded by mu
}

// Subscription receives every exit reaped after it was made.
type Subscription struct {
	C    chan runc.Exit
	done chan struct{}
	once sync.Once
}

// Default is the process-wide monitor; the shim points go-runc at it with
// runc.Monitor = reaper.Default.
var Default = &Monitor{subs: map[chan runc.Exit]*Subscription{}}

// Subscribe starts delivering exits to a new subscription.
func (m *Monitor) Subscribe() *Subscription {
	s := &Subscription{C: make(chan runc.Exit, 64), done: make(chan struct{})}
	m.mu.Lock()
	m.subs[s.C] = s
	m.mu.Unlock()
	return s
}

// Unsubscribe stops delivery; a broadcast blocked on s is released.
func (m *Monitor) Unsubscribe(s *Subscription) {
	m.mu.Lock()
	delete(m.subs, s.C)
	m.mu.Unlock()
	s.once.Do(func() { close(s.done) })
}

// Reap waits for every child that has exited and broadcasts each exit. It
// is called on SIGCHLD; signals coalesce, so it loops until none is left.
func (m *Monitor) Reap() {
	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, &ru)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		m.broadcast(runc.Exit{Timestamp: time.Now(), Pid: pid, Status: exitStatus(ws)})
	}
}

func (m *Monitor) broadcast(e runc.Exit) {
	m.mu.Lock()
	subs := make([]*Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		subs = append(subs, s)
	}
	m.mu.Unlock()
	for _, s := range subs {
		select {
		case s.C <- e:
		case <-s.done:
		}
	}
}

// exitStatus maps a wait status to the shell convention: the exit code, or
// 128+signal for a process killed by a signal.
func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return KilledBy(ws.Signal())
	}
	return ws.ExitStatus()
}

// KilledBy is the exit status of a process killed by sig: 128+sig (137
// for SIGKILL), as shells and containerd report it.
func KilledBy(sig unix.Signal) int { return 128 + int(sig) }

// Start starts c with its exit already subscribed to, so the exit cannot be
// reaped before anyone listens for it.
func (m *Monitor) Start(c *exec.Cmd) (chan runc.Exit, error) {
	s := m.Subscribe()
	if err := c.Start(); err != nil {
		m.Unsubscribe(s)
		return nil, err
	}
	return s.C, nil
}

// StartLocked is Start; the shim never sets Pdeathsig on runtime commands.
func (m *Monitor) StartLocked(c *exec.Cmd) (chan runc.Exit, error) {
	return m.Start(c)
}

// Wait returns the exit status of c, started by Start.
func (m *Monitor) Wait(c *exec.Cmd, ec chan runc.Exit) (int, error) {
	m.mu.Lock()
	s := m.subs[ec]
	m.mu.Unlock()
	if s != nil {
		defer m.Unsubscribe(s)
	}
	for e := range ec {
		if e.Pid == c.Process.Pid {
			// The process is reaped already; Wait only flushes the
			// goroutines copying its output, its error is ECHILD.
			_ = c.Wait()
			return e.Status, nil
		}
	}
	return -1, errors.New("reaper: exit channel closed")
}
