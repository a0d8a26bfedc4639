package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RestorePod is not implemented: see podCheckpointMissing. Nothing is
// made, so there is nothing to undo.
func (s *Server) RestorePod(ctx context.Context, req *runtime.RestorePodRequest) (*runtime.RestorePodResponse, error) {
	return nil, fmt.Errorf("RestorePod from %q: %s: %w", req.GetCheckpointPath(), podCheckpointMissing, errdefs.ErrNotImplemented)
}
