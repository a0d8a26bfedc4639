package specgen

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateResources maps the resources of a CRI UpdateContainerResources
// onto the runtime-spec resources a shim's Update takes, with the same
// rules as a new container's.
func UpdateResources(r *runtimeapi.LinuxContainerResources) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{}
	if err := containerResources(r, res, currentHostCgroups()); err != nil {
		return nil, err
	}
	return res, nil
}
