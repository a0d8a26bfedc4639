package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamContainerStats is ListContainerStats in messages of at most
// streamChunk containers, with the same filter.
func (s *Server) StreamContainerStats(req *runtime.StreamContainerStatsRequest, stream grpc.ServerStreamingServer[runtime.StreamContainerStatsResponse]) error {
	ctrs := s.runtime.Containers
	stats := ctrs.ListStats(stream.Context(), req.GetFilter())
	return sendChunks(stream, stats, func(c []*runtime.ContainerStats) *runtime.StreamContainerStatsResponse {
		return &runtime.StreamContainerStatsResponse{ContainerStats: c}
	})
}
