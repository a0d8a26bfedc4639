package oci

import (
	"fmt"
	"log/slog"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
)

// cgroupHandle is a task's cgroup: v1 (legacy and hybrid hosts) or v2.
type cgroupHandle struct {
	v1 cgroup1.Cgroup
	v2 *cgroup2.Manager
}

// loadCgroup finds the cgroup of pid as the host's cgroup mode sees it.
func loadCgroup(pid int) (*cgroupHandle, error) {
	if cgroups.Mode() == cgroups.Unified {
		path, err := cgroup2.PidGroupPath(pid)
		if err != nil {
			return nil, fmt.Errorf("cgroup of pid %d: %w", pid, err)
		}
		m, err := cgroup2.Load(path)
		if err != nil {
			return nil, fmt.Errorf("load cgroup %s: %w", path, err)
		}
		return &cgroupHandle{v2: m}, nil
	}
	cg, err := cgroup1.Load(cgroup1.PidPath(pid))
	if err != nil {
		return nil, fmt.Errorf("load cgroup of pid %d: %w", pid, err)
	}
	return &cgroupHandle{v1: cg}, nil
}

// stat returns io.containerd.cgroups.v1.Metrics or .v2.Metrics.
func (h *cgroupHandle) stat() (proto.Message, error) {
	if h == nil {
		return nil, fmt.Errorf("task has no cgroup: %w", errdefs.ErrNotFound)
	}
	if h.v2 != nil {
		return h.v2.Stat()
	}
	return h.v1.Stat(cgroup1.IgnoreNotExist)
}

// watchCgroup loads the task's cgroup for stats and watches it for OOM
// kills. A task without a cgroup still runs; only its stats are missing.
func (s *Service) watchCgroup(c *container, pid int) {
	h, err := loadCgroup(pid)
	if err != nil {
		slog.Warn("no cgroup for task: stats and OOM events are off", "id", c.id, "error", err)
		return
	}
	c.setCgroup(h)
	if err := s.oom.add(c.id, h); err != nil {
		slog.Warn("OOM events are off", "id", c.id, "error", err)
	}
}
