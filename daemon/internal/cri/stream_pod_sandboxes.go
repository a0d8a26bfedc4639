package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamPodSandboxes is ListPodSandbox in messages of at most streamChunk
// pods, with the same filter.
func (s *Server) StreamPodSandboxes(req *runtime.StreamPodSandboxesRequest, stream grpc.ServerStreamingServer[runtime.StreamPodSandboxesResponse]) error {
	pods := s.runtime.Pods
	return sendChunks(stream, pods.List(req.GetFilter()), func(c []*runtime.PodSandbox) *runtime.StreamPodSandboxesResponse {
		return &runtime.StreamPodSandboxesResponse{PodSandboxes: c}
	})
}
