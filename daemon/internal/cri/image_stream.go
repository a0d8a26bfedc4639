package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streamChunk is how many images one StreamImages message carries.
const streamChunk = 100

// StreamImages is ListImages in messages of at most streamChunk images.
func (s *Server) StreamImages(req *runtime.StreamImagesRequest, stream grpc.ServerStreamingServer[runtime.StreamImagesResponse]) error {
	imgs, err := s.filteredImages(req.GetFilter())
	if err != nil {
		return err
	}
	for start := 0; start < len(imgs); start += streamChunk {
		end := min(start+streamChunk, len(imgs))
		chunk := make([]*runtime.Image, 0, end-start)
		for _, img := range imgs[start:end] {
			chunk = append(chunk, toCRIImage(img))
		}
		if err := stream.Send(&runtime.StreamImagesResponse{Images: chunk}); err != nil {
			return err
		}
	}
	return nil
}
