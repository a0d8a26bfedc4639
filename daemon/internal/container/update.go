package container

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/cio"
	"github.com/runlet/runlet/daemon/internal/specgen"
	task "github.com/runlet/runlet/proto/task/v2"
)

// reopenLogAnnotation asks runlet's shims to reopen a task's CRI log.
const reopenLogAnnotation = "io.runlet.shim/reopen-log"

// Update changes a created or running container's resources; it waits
// for a Start, Stop or Remove in progress.
func (s *Service) Update(ctx context.Context, id string, r *runtimeapi.LinuxContainerResources) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	c, t, err := s.liveTask(id)
	if err != nil {
		return err
	}
	res, err := specgen.UpdateResources(r)
	if err != nil {
		return err
	}
	sb := s.podOf(&c)
	if res, err = s.hooks().UpdateContainer(ctx, sb, &c, res); err != nil {
		return err
	}
	if err := updateTask(ctx, t, id, res); err != nil {
		return err
	}
	s.hooks().PostUpdateContainer(ctx, sb, &c)
	return nil
}

// ApplyResources applies resources an NRI plugin asked for to a created
// or running container (no NRI hooks: the plugins asked for it).
func (s *Service) ApplyResources(ctx context.Context, id string, res *specs.LinuxResources) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	_, t, err := s.liveTask(id)
	if err != nil {
		return err
	}
	return updateTask(ctx, t, id, res)
}

// updateTask hands the task's shim its new resources.
func updateTask(ctx context.Context, t task.TaskService, id string, res *specs.LinuxResources) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = t.Update(ctx, &task.UpdateTaskRequest{Id: id,
		Resources: &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources", Value: b}})
	if err != nil {
		return fmt.Errorf("update container %q: %w", id, err)
	}
	return nil
}

// ReopenLog reopens a running container's CRI log after the kubelet
// rotated it: the shim's own writer, or runletd's copy.
func (s *Service) ReopenLog(ctx context.Context, id string) error {
	c, t, err := s.liveTask(id)
	if err != nil {
		return err
	}
	if c.State != Running {
		return fmt.Errorf("container %q is not running: %w", id, errdefs.ErrFailedPrecondition)
	}
	s.mu.Lock()
	io, _ := s.io[id].(*cio.IO)
	s.mu.Unlock()
	if io != nil {
		if err := io.Reopen(); !errdefs.IsFailedPrecondition(err) {
			return err
		}
	}
	_, err = t.Update(ctx, &task.UpdateTaskRequest{Id: id, Annotations: map[string]string{reopenLogAnnotation: "1"}})
	return err
}

// liveTask returns a container that has not exited and its pod's task
// service.
func (s *Service) liveTask(id string) (Container, task.TaskService, error) {
	c, err := s.get(id)
	if err != nil {
		return c, nil, err
	}
	if c.State == Exited {
		return c, nil, fmt.Errorf("container %q has exited: %w", id, errdefs.ErrFailedPrecondition)
	}
	t, err := s.taskOf(&c)
	return c, t, err
}
