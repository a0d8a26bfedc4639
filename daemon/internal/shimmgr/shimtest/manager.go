// Package shimtest is a fake of the pod shims runletd drives, in memory,
// for the lifecycle tests of the pod and container services: they run
// without root, runtimes or processes, and can make any shim call fail.
package shimtest

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/shimmgr"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/runtimeclass"
)

// Manager is a fake shim manager: one fake shim (a Tasks) per pod.
type Manager struct {
	mu    sync.Mutex
	pods  map[string]*shimmgr.Pod  // guarded by mu; live shims by sandbox id
	tasks map[string]*Tasks        // guarded by mu; every shim ever started, by sandbox id
	fail  map[string]error         // guarded by mu; the next call of a method fails with it
	calls map[string]int           // guarded by mu; calls by method
	gates map[string]chan struct{} // guarded by mu; calls of a method wait for its gate to close
	// dieOnStart makes every started task exit at once; guarded by mu.
	dieOnStart bool
}

// DieOnStart makes every task exit right after it starts (a pause or
// container that dies at once).
func (m *Manager) DieOnStart() {
	m.mu.Lock()
	m.dieOnStart = true
	m.mu.Unlock()
}

func (m *Manager) diesOnStart() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dieOnStart
}

// NewManager returns a manager with no shim.
func NewManager() *Manager {
	return &Manager{pods: map[string]*shimmgr.Pod{}, tasks: map[string]*Tasks{}, fail: map[string]error{}, calls: map[string]int{},
		gates: map[string]chan struct{}{}}
}

// FailNext makes the next call of method (a Manager or task method name,
// e.g. "StartPod", "Create", "Start") return err.
func (m *Manager) FailNext(method string, err error) {
	m.mu.Lock()
	m.fail[method] = err
	m.mu.Unlock()
}

// Block makes every call of method wait, once counted, until the returned
// release is called: a test holds a call in progress to show what runs
// beside it.
func (m *Manager) Block(method string) (release func()) {
	gate := make(chan struct{})
	m.mu.Lock()
	m.gates[method] = gate
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.gates, method)
			m.mu.Unlock()
			close(gate)
		})
	}
}

// Calls is how often method was called, on the manager or any shim.
func (m *Manager) Calls(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// call counts a call of method, waits at its gate if it has one, and
// returns the failure set for it.
func (m *Manager) call(method string) error {
	m.mu.Lock()
	m.calls[method]++
	err := m.fail[method]
	delete(m.fail, method)
	gate := m.gates[method]
	m.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return err
}

// Shim returns the fake shim of a pod (live or shut down), nil if none
// was started.
func (m *Manager) Shim(sandboxID string) *Tasks {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tasks[sandboxID]
}

// Live reports whether the pod's shim serves.
func (m *Manager) Live(sandboxID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.pods[sandboxID]
	return ok
}

// Kill makes a pod's shim die: its tasks are gone with it.
func (m *Manager) Kill(sandboxID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pods, sandboxID)
	if t := m.tasks[sandboxID]; t != nil {
		t.dieAll()
	}
}

// Pod returns the live shim of a pod.
func (m *Manager) Pod(sandboxID string) (*shimmgr.Pod, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pods[sandboxID]
	if !ok {
		return nil, fmt.Errorf("no shim for pod %q: %w", sandboxID, errdefs.ErrNotFound)
	}
	return p, nil
}

// StartPod starts a fake shim for the pod.
func (m *Manager) StartPod(ctx context.Context, h *runtimeclass.Handler, sandboxID, bundle string) (*shimmgr.Pod, error) {
	if err := m.call("StartPod"); err != nil {
		return nil, err
	}
	return m.start(h, sandboxID), nil
}

// Find returns the pod's live shim or starts one, as a shim's second
// `start` does.
func (m *Manager) Find(ctx context.Context, h *runtimeclass.Handler, sandboxID, bundle string) (*shimmgr.Pod, error) {
	if err := m.call("Find"); err != nil {
		return nil, err
	}
	if p, err := m.Pod(sandboxID); err == nil {
		return p, nil
	}
	return m.start(h, sandboxID), nil
}

func (m *Manager) start(h *runtimeclass.Handler, sandboxID string) *shimmgr.Pod {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tasks[sandboxID]
	if t == nil || t.gone() {
		t = newTasks(m)
		m.tasks[sandboxID] = t
	}
	p := shimmgr.NewPod(sandboxID, h, t, "unix:///fake/"+sandboxID)
	m.pods[sandboxID] = p
	return p
}

// Reconnect connects to the pod's shim if it is live.
func (m *Manager) Reconnect(ctx context.Context, set *runtimeclass.Set, r shimmgr.Record) (*shimmgr.Pod, error) {
	if err := m.call("Reconnect"); err != nil {
		return nil, err
	}
	p, err := m.Pod(r.SandboxID)
	if err != nil {
		return nil, fmt.Errorf("connect to shim at %s: %w: %w", r.Address, syscall.ECONNREFUSED, errdefs.ErrUnavailable)
	}
	return p, nil
}

// Cleanup is the shim's `delete`: the task is force-deleted.
func (m *Manager) Cleanup(ctx context.Context, h *runtimeclass.Handler, id, bundle string) (*task.DeleteResponse, error) {
	if err := m.call("Cleanup"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tasks {
		t.forceDelete(id)
	}
	return &task.DeleteResponse{ExitStatus: 137}, nil
}

// Shutdown makes the pod's shim exit if it has no task left.
func (m *Manager) Shutdown(ctx context.Context, sandboxID string) error {
	if err := m.call("Shutdown"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tasks[sandboxID]
	if _, live := m.pods[sandboxID]; live && t.empty() {
		delete(m.pods, sandboxID)
		t.dieAll()
	}
	return nil
}
