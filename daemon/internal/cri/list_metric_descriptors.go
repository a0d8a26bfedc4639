package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/metrics"
)

// ListMetricDescriptors lists every metric ListPodSandboxMetrics may
// report (cAdvisor's container_* metrics) with its label keys.
func (s *Server) ListMetricDescriptors(ctx context.Context, req *runtime.ListMetricDescriptorsRequest) (*runtime.ListMetricDescriptorsResponse, error) {
	return &runtime.ListMetricDescriptorsResponse{Descriptors: metrics.Descriptors()}, nil
}
