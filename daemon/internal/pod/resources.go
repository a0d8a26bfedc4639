package pod

import (
	"errors"
	"fmt"

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
// written by update, so a concurrent state change is not lost to it; the
// pod's RunKey keeps answering a retry of the RunPodSandbox that made it.
func (s *Service) UpdateResources(id string, overhead, resources *runtimeapi.LinuxContainerResources) error {
	var cerr error
	err := s.update(id, func(sb *Sandbox) bool {
		cfg, err := sb.CRIConfig()
		if err != nil {
			cerr = err
			return false
		}
		if cfg.Linux == nil {
			cfg.Linux = &runtimeapi.LinuxPodSandboxConfig{}
		}
		cfg.Linux.Overhead = proto.CloneOf(overhead)
		cfg.Linux.Resources = proto.CloneOf(resources)
		if sb.Config, cerr = marshalConfig(cfg); cerr != nil {
			cerr = fmt.Errorf("pod sandbox %q: config: %w", id, cerr)
			return false
		}
		return true
	})
	return errors.Join(err, cerr)
}
