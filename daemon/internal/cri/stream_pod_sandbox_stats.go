package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamPodSandboxStats is ListPodSandboxStats in messages of at most
// streamChunk pods, with the same filter.
func (s *Server) StreamPodSandboxStats(req *runtime.StreamPodSandboxStatsRequest, stream grpc.ServerStreamingServer[runtime.StreamPodSandboxStatsResponse]) error {
	ctrs := s.runtime.Containers
	stats := ctrs.ListPodStats(stream.Context(), req.GetFilter())
	return sendChunks(stream, stats, func(c []*runtime.PodSandboxStats) *runtime.StreamPodSandboxStatsResponse {
		return &runtime.StreamPodSandboxStatsResponse{PodSandboxStats: c}
	})
}
