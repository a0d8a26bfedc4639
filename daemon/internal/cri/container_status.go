package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerStatus reports a container and the user of its init process;
// verbose adds its pid.
func (s *Server) ContainerStatus(ctx context.Context, req *runtime.ContainerStatusRequest) (*runtime.ContainerStatusResponse, error) {
	ctrs := s.runtime.Containers
	st, info, err := ctrs.Status(req.GetContainerId(), req.GetVerbose())
	if err != nil {
		return nil, err
	}
	st.User = ctrs.User(st.GetId())
	return &runtime.ContainerStatusResponse{Status: st, Info: info}, nil
}
