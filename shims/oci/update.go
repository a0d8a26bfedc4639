package oci

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/emptypb"

	task "github.com/runlet/runlet/proto/task/v2"
)

// Update changes a task's resources (runtime-spec LinuxResources JSON).
func (s *Service) Update(ctx context.Context, r *task.UpdateTaskRequest) (*emptypb.Empty, error) {
	c, unlock, err := s.lockInit(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := c.init.check("update"); err != nil {
		return nil, err
	}
	if r.GetAnnotations()[ReopenLogAnnotation] != "" {
		return s.reopenLog(c)
	}
	var res specs.LinuxResources
	if err := json.Unmarshal(r.GetResources().GetValue(), &res); err != nil {
		return nil, fmt.Errorf("resources: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if err := c.runtime.Update(ctx, c.id, &res); err != nil {
		return nil, runtimeError(c.bundle, "update", err)
	}
	return &emptypb.Empty{}, nil
}

// ReopenLogAnnotation on an Update (with no resources) asks the shim to
// reopen the task's CRI log file, for CRI ReopenContainerLog after the
// kubelet rotated it. The task API has no call of its own for it.
const ReopenLogAnnotation = "io.runlet.shim/reopen-log"

func (s *Service) reopenLog(c *container) (*emptypb.Empty, error) {
	pio := c.init.getIO()
	if pio == nil {
		return nil, fmt.Errorf("task %q has no stdio: %w", c.id, errdefs.ErrFailedPrecondition)
	}
	if err := pio.reopenLog(); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
