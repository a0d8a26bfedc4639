package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/pod"
)

// PortForward answers with the one-time URL of a streaming session that
// forwards to ports on a ready pod's loopback.
func (s *Server) PortForward(ctx context.Context, req *runtime.PortForwardRequest) (*runtime.PortForwardResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, fmt.Errorf("pod_sandbox_id is required: %w", errdefs.ErrInvalidArgument)
	}
	pods := s.runtime.Pods
	srv := s.runtime.Streaming
	sb, err := pods.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	if sb.State != pod.Ready {
		return nil, fmt.Errorf("pod %q is not ready: %w", sb.ID, errdefs.ErrFailedPrecondition)
	}
	for _, p := range req.GetPort() {
		if p <= 0 || p > 65535 {
			return nil, fmt.Errorf("port %d: %w", p, errdefs.ErrInvalidArgument)
		}
	}
	return srv.GetPortForward(req)
}
