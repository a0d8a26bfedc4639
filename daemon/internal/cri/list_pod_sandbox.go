package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandbox lists the pods matching the filter.
func (s *Server) ListPodSandbox(ctx context.Context, req *runtime.ListPodSandboxRequest) (*runtime.ListPodSandboxResponse, error) {
	pods := s.runtime.Pods
	return &runtime.ListPodSandboxResponse{Items: pods.List(req.GetFilter())}, nil
}
