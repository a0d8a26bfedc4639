package oci

import (
	"context"
	"fmt"
	"sync"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"

	"github.com/runlet/runlet/proto/runc/options"
	"github.com/runlet/runlet/proto/types"
)

// container is one task: a bundle, its runtime, its init process and its
// exec processes.
type container struct {
	id      string
	bundle  string
	rootfs  []*types.Mount
	runtime *runc.Runc
	record  runtimeRecord
	opts    *options.Options
	// sharedPidNS is set at Create when the container has no pid
	// namespace of its own.
	sharedPidNS bool
	init        *process
	// cgroupReady is closed once the cgroup is loaded and watched (or
	// known to be missing): that runs beside the caller's next steps
	// instead of inside Create.
	cgroupReady chan struct{}

	mu     sync.Mutex
	execs  map[string]*process // guarded by mu
	cgroup *cgroupHandle       // guarded by mu; nil until the init pid is known
}

// process returns the init process for "" or the named exec.
func (c *container) process(execID string) (*process, error) {
	if execID == "" {
		return c.init, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.execs[execID]
	if !ok {
		return nil, fmt.Errorf("exec %q of task %q: %w", execID, c.id, errdefs.ErrNotFound)
	}
	return p, nil
}

func (c *container) addExec(p *process) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.execs[p.execID]; ok {
		return fmt.Errorf("exec %q of task %q: %w", p.execID, c.id, errdefs.ErrAlreadyExists)
	}
	c.execs[p.execID] = p
	return nil
}

func (c *container) removeExec(execID string) {
	c.mu.Lock()
	delete(c.execs, execID)
	c.mu.Unlock()
}

// liveExecs returns the exec processes that have not exited.
func (c *container) liveExecs() []*process {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []*process
	for _, p := range c.execs {
		if !p.hasExited() && p.getState() != created {
			live = append(live, p)
		}
	}
	return live
}

// execIDsByPid maps the pids of exec processes to their ids.
func (c *container) execIDsByPid() map[int]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[int]string, len(c.execs))
	for id, p := range c.execs {
		if pid := p.getPid(); pid > 0 {
			m[pid] = id
		}
	}
	return m
}

// forceDelete removes the container from the runtime whatever its state.
func (c *container) forceDelete(ctx context.Context) {
	_ = c.runtime.Delete(ctx, c.id, &runc.DeleteOpts{Force: true})
}

// liveExecCount counts exec processes started and not yet exited.
func (c *container) liveExecCount() int { return len(c.liveExecs()) }

func (c *container) setCgroup(h *cgroupHandle) {
	c.mu.Lock()
	c.cgroup = h
	c.mu.Unlock()
}

func (c *container) getCgroup() *cgroupHandle {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cgroup
}

// awaitCgroup waits until the cgroup watch of the task is set up.
func (c *container) awaitCgroup(ctx context.Context) error {
	select {
	case <-c.cgroupReady:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
