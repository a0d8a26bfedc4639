package cri

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/images"
)

// PullImage pulls the image, through the configured mirrors, with the request's credentials.
func (s *Server) PullImage(ctx context.Context, req *runtime.PullImageRequest) (*runtime.PullImageResponse, error) {
	if req.GetImage().GetImage() == "" {
		return nil, fmt.Errorf("PullImage: image reference is empty: %w", errdefs.ErrInvalidArgument)
	}
	id, err := s.images.Pull(ctx, req.GetImage().GetImage(), authOf(req.GetAuth()))
	if err != nil {
		return nil, err
	}
	return &runtime.PullImageResponse{ImageRef: id}, nil
}

func authOf(a *runtime.AuthConfig) *images.Auth {
	if a == nil {
		return nil
	}
	return &images.Auth{Username: a.Username, Password: a.Password, Auth: a.Auth,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
}
