package container

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/metrics"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

// taskRef names a shim task (a container or a pod's sandbox) and where
// runletd keeps its files: the snapshot key is the id.
type taskRef struct {
	id     string
	pid    uint32 // the init process
	bundle string
}

// gather reads what a task's metrics are made of: the shim's cgroup
// metrics and process list, /proc, the writable layer and the spec.
// Missing parts are left out; a task with neither cgroup metrics nor
// processes is gone, an error.
func (s *Service) gather(ctx context.Context, t task.TaskService, r taskRef) (*metrics.Container, error) {
	in := &metrics.Container{Now: time.Now()}
	stats, statsErr := t.Stats(ctx, &task.StatsRequest{Id: r.id})
	if statsErr == nil {
		if cg, err := metrics.DecodeCgroup(stats.GetStats()); err == nil {
			metrics.NameDevices(cg)
			in.Cgroup = cg
		}
	}
	pids, pidsErr := taskPids(ctx, t, r)
	if statsErr != nil && pidsErr != nil {
		return nil, fmt.Errorf("metrics of %q: %w", r.id, statsErr)
	}
	in.Procs = metrics.ReadProcs(r.pid, pids)
	if dir, err := s.upperDir(r.id); err == nil {
		in.FS, _ = metrics.ReadFS(dir)
	}
	if spec, err := bundle.ReadSpec(r.bundle); err == nil {
		in.Spec = metrics.SpecOf(spec)
	}
	return in, nil
}

// taskPids lists a task's processes from its cgroup, else (a cgroup
// layout runletd cannot read) from the shim.
func taskPids(ctx context.Context, t task.TaskService, r taskRef) ([]uint32, error) {
	if pids, err := metrics.CgroupPids(r.pid); err == nil && len(pids) > 0 {
		return pids, nil
	}
	resp, err := t.Pids(ctx, &task.PidsRequest{Id: r.id})
	if err != nil {
		return []uint32{r.pid}, err
	}
	var pids []uint32
	for _, p := range resp.GetProcesses() {
		pids = append(pids, p.GetPid())
	}
	return pids, nil
}

// upperDir is the writable layer of a snapshot: overlay's upperdir, or
// the directory bound as the rootfs of an image with no layers.
func (s *Service) upperDir(key string) (string, error) {
	mounts, err := s.o.Snapshots.Mounts(key)
	if err != nil {
		return "", err
	}
	return writableDir(mounts)
}

func writableDir(mounts []*types.Mount) (string, error) {
	for _, m := range mounts {
		if m.GetType() == "bind" {
			return m.GetSource(), nil
		}
		for _, o := range m.GetOptions() {
			if dir, ok := strings.CutPrefix(o, "upperdir="); ok {
				return dir, nil
			}
		}
	}
	return "", fmt.Errorf("no writable layer among %d mounts: %w", len(mounts), errdefs.ErrNotFound)
}
