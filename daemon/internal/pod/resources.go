package pod

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateResources records a resized pod's pod-level resources and
// overhead (UpdatePodSandboxResources) in its stored CRI config, where
// PodSandboxStatus's verbose info reports them and later containers' specs
// read the pod config from. kubelet calls before it writes the pod's
// cgroup (its cgroup_parent) itself, and drops the resize if the call
// fails: the call is the runtime's say, not its actuation, and runletd
// keeps no pod cgroup of its own (each container's cgroup sits directly
// under cgroup_parent). NRI plugins hear of the update first (one may
// refuse it: nothing is recorded) and of its end after. The pod's lock
// keeps a Stop or Remove out meanwhile; the record is read, changed and
// written by update, and the pod's RunKey keeps answering a retry of the
// RunPodSandbox that made it.
func (s *Service) UpdateResources(ctx context.Context, id string, overhead, resources *runtimeapi.LinuxContainerResources) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	sb, err := s.Get(id)
	if err != nil {
		return err
	}
	if err := s.hooks().UpdatePodSandbox(ctx, &sb, overhead, resources); err != nil {
		return err
	}
	var cerr error
	err = s.update(id, func(sb *Sandbox) bool {
		cerr = setResources(sb, overhead, resources)
		return cerr == nil
	})
	if err = errors.Join(err, cerr); err != nil {
		return err
	}
	if sb, err = s.Get(id); err == nil {
		s.hooks().PostUpdatePodSandbox(ctx, &sb)
	}
	return nil
}

// setResources writes overhead and resources into sb's CRI config.
func setResources(sb *Sandbox, overhead, resources *runtimeapi.LinuxContainerResources) error {
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
		return fmt.Errorf("pod sandbox %q: config: %w", sb.ID, err)
	}
	return nil
}
