package shims

import (
	"fmt"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
)

// joinShimCgroup moves the server into the cgroup the runtime options name
// (containerd.runc.v1.Options.shim_cgroup), as containerd's runc shim does.
func joinShimCgroup(in *startInput, pid int) error {
	path := in.options.GetShimCgroup()
	if path == "" {
		return nil
	}
	if cgroups.Mode() == cgroups.Unified {
		m, err := cgroup2.Load(path)
		if err == nil {
			err = m.AddProc(uint64(pid))
		}
		if err != nil {
			return fmt.Errorf("join shim cgroup %s: %w", path, err)
		}
		return nil
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(path))
	if err == nil {
		err = cg.AddProc(uint64(pid))
	}
	if err != nil {
		return fmt.Errorf("join shim cgroup %s: %w", path, err)
	}
	return nil
}
