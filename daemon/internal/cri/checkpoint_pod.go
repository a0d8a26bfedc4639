package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// podCheckpointMissing says what CheckpointPod and RestorePod lack.
const podCheckpointMissing = "runletd has no pod checkpoint/restore: it needs CRIU dumps of every container " +
	"with the whole pod paused, and restores of them into a new sandbox, and CRIU cannot run on the kernel " +
	"runletd is built and tested on, so none is offered; CheckpointContainer writes single-container archives " +
	"where the runtime's CRIU works"

// CheckpointPod is not implemented: see podCheckpointMissing.
func (s *Server) CheckpointPod(ctx context.Context, req *runtime.CheckpointPodRequest) (*runtime.CheckpointPodResponse, error) {
	return nil, fmt.Errorf("CheckpointPod %q: %s: %w", req.GetPodSandboxId(), podCheckpointMissing, errdefs.ErrNotImplemented)
}
