package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamContainers is ListContainers in messages of at most streamChunk
// containers, with the same filter.
func (s *Server) StreamContainers(req *runtime.StreamContainersRequest, stream grpc.ServerStreamingServer[runtime.StreamContainersResponse]) error {
	ctrs := s.runtime.Containers
	return sendChunks(stream, ctrs.List(req.GetFilter()), func(c []*runtime.Container) *runtime.StreamContainersResponse {
		return &runtime.StreamContainersResponse{Containers: c}
	})
}
