package cri

import (
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// pods is the pod service, Unavailable while runletd has none (it is
// still recovering, or was started without a runtime).
func (s *Server) pods() (*pod.Service, error) {
	if s.runtime.Pods == nil {
		return nil, fmt.Errorf("the runtime service is not ready: %w", errdefs.ErrUnavailable)
	}
	return s.runtime.Pods, nil
}

// containers is the container service, Unavailable while there is none.
func (s *Server) containers() (*container.Service, error) {
	if s.runtime.Containers == nil {
		return nil, fmt.Errorf("the runtime service is not ready: %w", errdefs.ErrUnavailable)
	}
	return s.runtime.Containers, nil
}
