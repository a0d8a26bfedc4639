package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/images"
)

// ListImages lists every image, or the one the filter names.
func (s *Server) ListImages(ctx context.Context, req *runtime.ListImagesRequest) (*runtime.ListImagesResponse, error) {
	imgs, err := s.filteredImages(req.GetFilter())
	if err != nil {
		return nil, err
	}
	out := make([]*runtime.Image, len(imgs))
	for i, img := range imgs {
		out[i] = toCRIImage(img)
	}
	return &runtime.ListImagesResponse{Images: out}, nil
}

// filteredImages applies a CRI image filter: a reference or ID, or nothing.
func (s *Server) filteredImages(f *runtime.ImageFilter) ([]images.Image, error) {
	ref := f.GetImage().GetImage()
	if ref == "" {
		return s.images.List(), nil
	}
	img, err := s.images.Get(ref)
	if err != nil {
		return nil, nil // a filter that matches nothing lists nothing
	}
	return []images.Image{img}, nil
}
