package pod

import (
	"fmt"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateResources records a resized pod's pod-level resources and
// overhead (UpdatePodSandboxResources) in its stored CRI config, where
// PodSandboxStatus's verbose info reports them and later containers' specs
// read the pod config from. kubelet has already resized the pod's cgroup,
// its cgroup_parent, before it calls: runletd keeps no pod cgroup of its
// own (each container's cgroup sits directly under cgroup_parent), so
// there is no cgroup here to write. The record is read, changed and
// written under the service's lock, so a concurrent state change is not
// lost to it.
func (s *Service) UpdateResources(id string, overhead, resources *runtimeapi.LinuxContainerResources) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.pods[id]
	if !ok {
		return fmt.Errorf("pod sandbox %q: %w", id, errdefs.ErrNotFound)
	}
	sb := *cur
	cfg, err := sb.CRIConfig()
	if err != nil {
		return err
	}
	if cfg.Linux == nil {
		cfg.Linux = &runtimeapi.LinuxPodSandboxConfig{}
	}
	cfg.Linux.Overhead = proto.CloneOf(overhead)
	cfg.Linux.Resources = proto.CloneOf(resources)
	if sb.Config, err = marshalConfig(cfg); err != nil {
		return fmt.Errorf("pod sandbox %q: config: %w", id, err)
	}
	if err := s.o.DB.Put(bucket, sb.ID, &sb); err != nil {
		return err
	}
	s.pods[id] = &sb
	return nil
}
