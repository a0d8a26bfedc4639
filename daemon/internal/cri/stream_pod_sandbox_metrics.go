package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamPodSandboxMetrics is ListPodSandboxMetrics in messages of at most
// streamChunk pods.
func (s *Server) StreamPodSandboxMetrics(req *runtime.StreamPodSandboxMetricsRequest, stream grpc.ServerStreamingServer[runtime.StreamPodSandboxMetricsResponse]) error {
	ctrs := s.runtime.Containers
	return sendChunks(stream, ctrs.ListPodMetrics(stream.Context()), func(c []*runtime.PodSandboxMetrics) *runtime.StreamPodSandboxMetricsResponse {
		return &runtime.StreamPodSandboxMetricsResponse{PodSandboxMetrics: c}
	})
}
