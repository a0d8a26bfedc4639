package shimmgr

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/shim"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/runtimeclass"
)

// Pod is the shim serving one pod.
type Pod struct {
	SandboxID string
	Handler   *runtimeclass.Handler
	task      task.TaskService
	record    Record
	shim      *shim.Shim // nil for a pod made by NewPod
}

// NewPod is a pod served by t, which the caller serves itself (the
// lifecycle tests' fake shim); its record names address.
func NewPod(sandboxID string, h *runtimeclass.Handler, t task.TaskService, address string) *Pod {
	return &Pod{SandboxID: sandboxID, Handler: h, task: t,
		record: Record{SandboxID: sandboxID, Handler: h.Name, Address: address, Version: 2}}
}

// newPod is the pod served by the connected shim s.
func newPod(sandboxID string, h *runtimeclass.Handler, s *shim.Shim) *Pod {
	return &Pod{SandboxID: sandboxID, Handler: h, task: s.Task, shim: s,
		record: Record{SandboxID: sandboxID, Handler: h.Name, Address: s.Address, Version: s.Version}}
}

// Record is what must be persisted to reconnect to a pod's shim after
// runletd restarts.
type Record struct {
	SandboxID string `json:"sandbox_id"`
	Handler   string `json:"handler"`
	Address   string `json:"address"`
	Version   int    `json:"version"`
}

// Task is the pod's task service.
func (p *Pod) Task() task.TaskService { return p.task }

// Record returns the pod's reconnect record.
func (p *Pod) Record() Record { return p.record }

// StartPod starts the shim of a new pod for its sandbox task, whose bundle
// is ready at bundle. AlreadyExists if the pod has a shim.
func (m *Manager) StartPod(ctx context.Context, h *runtimeclass.Handler, sandboxID, bundle string) (*Pod, error) {
	if _, err := m.Pod(sandboxID); err == nil {
		return nil, fmt.Errorf("pod %q already has a shim: %w", sandboxID, errdefs.ErrAlreadyExists)
	}
	s, err := shim.Start(ctx, m.launchConfig(h, sandboxID, bundle))
	if err != nil {
		return nil, err
	}
	return m.track(newPod(sandboxID, h, s)), nil
}

// Reconnect attaches to the live shim of a pod after a restart. The
// shim's tasks are untouched.
func (m *Manager) Reconnect(ctx context.Context, set *runtimeclass.Set, r Record) (*Pod, error) {
	h, err := set.Resolve(r.Handler)
	if err != nil {
		return nil, err
	}
	s, err := shim.Connect(ctx, shim.Reply{Version: r.Version, Address: r.Address, Protocol: "ttrpc"})
	if err != nil {
		return nil, fmt.Errorf("pod %q: %w: %w", r.SandboxID, err, errdefs.ErrUnavailable)
	}
	return m.track(newPod(r.SandboxID, h, s)), nil
}

// Find connects to the live shim of a pod whose address was never
// recorded (a RunPodSandbox cut short between the shim's start and its
// record), by running the shim's `start` again: a shim v2 answers a second
// start for the same id with the address it serves. Where none serves, a
// new idle shim starts; either way the caller gets one it can shut down.
func (m *Manager) Find(ctx context.Context, h *runtimeclass.Handler, sandboxID, bundle string) (*Pod, error) {
	if p, err := m.Pod(sandboxID); err == nil {
		return p, nil
	}
	s, err := shim.Start(ctx, m.launchConfig(h, sandboxID, bundle))
	if err != nil {
		return nil, err
	}
	return m.track(newPod(sandboxID, h, s)), nil
}

// track registers p and reports its shim's end once, unless runletd
// closed the connection itself: closing our side (at shutdown) leaves the
// shim and its tasks running, and is no shim exit.
func (m *Manager) track(p *Pod) *Pod {
	m.mu.Lock()
	m.pods[p.SandboxID] = p
	m.mu.Unlock()
	go func() {
		<-p.shim.Done()
		m.mu.Lock()
		if m.pods[p.SandboxID] == p {
			delete(m.pods, p.SandboxID)
		}
		m.mu.Unlock()
		if p.shim.ClosedHere() {
			return
		}
		if m.cfg.OnShimExit != nil {
			m.cfg.OnShimExit(p.SandboxID)
		}
		if err := shim.RemoveDeadSocket(p.record.Address); err != nil {
			slog.Warn("remove the socket of a dead shim", "id", p.SandboxID, "error", err)
		}
	}()
	return p
}

// Cleanup runs the shim's `delete` for a task whose shim is gone: the
// runtime state is force-deleted and the rootfs unmounted.
func (m *Manager) Cleanup(ctx context.Context, h *runtimeclass.Handler, id, bundle string) (*task.DeleteResponse, error) {
	return shim.Delete(ctx, m.launchConfig(h, id, bundle))
}

// Shutdown asks the pod's shim to exit; it does once no task is left.
func (m *Manager) Shutdown(ctx context.Context, sandboxID string) error {
	p, err := m.Pod(sandboxID)
	if err != nil {
		return nil
	}
	_, err = p.task.Shutdown(ctx, &task.ShutdownRequest{Id: sandboxID})
	if err != nil && !errdefs.IsNotFound(err) && !isClosed(err) {
		return err
	}
	return nil
}
