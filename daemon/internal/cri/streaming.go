package cri

import (
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/streaming"
)

// stream is the streaming server, Unavailable while there is none.
func (s *Server) stream() (*streaming.Server, error) {
	if s.runtime.Streaming == nil {
		return nil, fmt.Errorf("the streaming server is not running: %w", errdefs.ErrUnavailable)
	}
	return s.runtime.Streaming, nil
}
