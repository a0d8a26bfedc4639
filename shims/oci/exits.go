package oci

import (
	"sync"

	runc "github.com/containerd/go-runc"

	"github.com/runlet/runlet/shims/internal/reaper"
)

// exitRouter matches reaped exits to processes by pid. A process can exit
// before the runtime call that started it returns its pid (a short exec),
// so while any start is in flight, exits of unknown pids are kept and
// matched when the pid is registered.
type exitRouter struct {
	onExit func(p *process, e runc.Exit)

	mu       sync.Mutex
	byPid    map[int]*process // guarded by mu
	inFlight int              // guarded by mu
	early    []runc.Exit      // guarded by mu; exits seen while inFlight > 0
}

func newExitRouter(m *reaper.Monitor, onExit func(*process, runc.Exit)) *exitRouter {
	r := &exitRouter{onExit: onExit, byPid: map[int]*process{}}
	sub := m.Subscribe()
	go func() {
		for e := range sub.C {
			r.route(e)
		}
	}()
	return r
}

func (r *exitRouter) route(e runc.Exit) {
	r.mu.Lock()
	p, ok := r.byPid[e.Pid]
	if ok {
		delete(r.byPid, e.Pid)
	} else if r.inFlight > 0 {
		r.early = append(r.early, e)
	}
	r.mu.Unlock()
	if ok {
		go r.onExit(p, e)
	}
}

// begin announces a runtime call that will yield a pid.
func (r *exitRouter) begin() {
	r.mu.Lock()
	r.inFlight++
	r.mu.Unlock()
}

// end registers pid for p (pid 0: the call failed) and delivers an exit
// that was reaped before.
func (r *exitRouter) end(p *process, pid int) {
	r.mu.Lock()
	r.inFlight--
	exit, found := r.takeEarly(pid)
	if pid > 0 && !found {
		r.byPid[pid] = p
	}
	if r.inFlight == 0 {
		r.early = nil
	}
	r.mu.Unlock()
	if found {
		go r.onExit(p, exit)
	}
}

// forget drops the registration of pid (a process deleted unexited).
func (r *exitRouter) forget(pid int) {
	r.mu.Lock()
	delete(r.byPid, pid)
	r.mu.Unlock()
}

// takeEarly finds an exit of pid reaped before its registration. The
// caller holds mu.
func (r *exitRouter) takeEarly(pid int) (runc.Exit, bool) {
	for _, e := range r.early {
		if pid > 0 && e.Pid == pid {
			return e, true
		}
	}
	return runc.Exit{}, false
}
