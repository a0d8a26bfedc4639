package cri

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/images"
)

// ImageStatus reports one image; an unknown image is an empty answer, not an
// error, as kubelet expects. Verbose adds the image config under "info".
func (s *Server) ImageStatus(ctx context.Context, req *runtime.ImageStatusRequest) (*runtime.ImageStatusResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, fmt.Errorf("ImageStatus: image is empty: %w", errdefs.ErrInvalidArgument)
	}
	img, err := s.images.Get(ref)
	if errdefs.IsNotFound(err) {
		return &runtime.ImageStatusResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	resp := &runtime.ImageStatusResponse{Image: toCRIImage(img)}
	if req.GetVerbose() {
		info, err := s.verboseInfo(img)
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": info}
	}
	return resp, nil
}

// verboseInfo is the JSON crictl inspecti shows: the image config and where the layers are.
func (s *Server) verboseInfo(img images.Image) (string, error) {
	cfg, err := s.images.ReadBlob(img.ID)
	if err != nil {
		return "", fmt.Errorf("image %s config: %w", img.ID, err)
	}
	layers := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		layers[i] = s.images.LayerPath(l)
	}
	b, err := json.Marshal(struct {
		ImageSpec   json.RawMessage `json:"imageSpec"`
		Layers      []string        `json:"layers"`
		LayerDirs   []string        `json:"layerDirs"`
		ContentBlob []string        `json:"contentBlobs"`
	}{cfg, img.Layers, layers, img.Blobs})
	return string(b), err
}
