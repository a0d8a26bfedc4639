package specgen

import (
	"maps"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// hostCgroups is what the resource mapping needs to know about the host.
type hostCgroups struct {
	unified bool // cgroup v2 only
	swap    bool // the memory controller accounts swap
}

// containerResources maps the CRI resources onto res as containerd does:
// zero means unset; a memory limit without a swap limit also caps swap at
// the limit (no swapping) where the host accounts swap; unified needs a
// cgroup v2 host.
func containerResources(r *runtimeapi.LinuxContainerResources, res *specs.LinuxResources, host hostCgroups) error {
	if r == nil {
		return nil
	}
	const field = "linux.resources."
	for name, v := range map[string]int64{"cpu_period": r.GetCpuPeriod(), "cpu_quota": r.GetCpuQuota(), "cpu_shares": r.GetCpuShares(), "memory_limit_in_bytes": r.GetMemoryLimitInBytes(), "memory_swap_limit_in_bytes": r.GetMemorySwapLimitInBytes()} {
		if v < 0 && !(name == "cpu_quota" && v == -1) && !(name == "memory_swap_limit_in_bytes" && v == -1) {
			return invalidf(field+name, "%d is negative", v)
		}
	}
	cpu := &specs.LinuxCPU{Cpus: r.GetCpusetCpus(), Mems: r.GetCpusetMems()}
	if p := uint64(r.GetCpuPeriod()); p != 0 {
		cpu.Period = &p
	}
	if q := r.GetCpuQuota(); q != 0 {
		cpu.Quota = &q
	}
	if s := uint64(r.GetCpuShares()); s != 0 {
		cpu.Shares = &s
	}
	res.CPU = cpu
	mem := &specs.LinuxMemory{}
	if limit := r.GetMemoryLimitInBytes(); limit != 0 {
		mem.Limit = &limit
		if r.GetMemorySwapLimitInBytes() == 0 && host.swap {
			mem.Swap = &limit
		}
	}
	if swap := r.GetMemorySwapLimitInBytes(); swap != 0 && host.swap {
		mem.Swap = &swap
	}
	res.Memory = mem
	for i, h := range r.GetHugepageLimits() {
		if !strings.HasSuffix(h.GetPageSize(), "B") || len(h.GetPageSize()) < 3 {
			return invalidf(field+"hugepage_limits", "entry %d has page size %q, want e.g. 2MB", i, h.GetPageSize())
		}
		res.HugepageLimits = append(res.HugepageLimits, specs.LinuxHugepageLimit{Pagesize: h.GetPageSize(), Limit: h.GetLimit()})
	}
	if len(r.GetUnified()) > 0 {
		if !host.unified {
			return invalidf(field+"unified", "needs a cgroup v2 host, this one is not")
		}
		res.Unified = maps.Clone(r.GetUnified())
	}
	return nil
}

// CgroupsPath is the cgroupsPath of a sandbox or container id under a CRI
// cgroup_parent, as containerd computes it: a systemd slice parent
// ("kubepods-pod1.slice", possibly as the last element of a path) gives
// "kubepods-pod1.slice:runlet:<id>" for runc's systemd driver; any other
// parent gives "<parent>/runlet-<id>" for the cgroupfs driver (the prefix
// tells runlet's cgroups from others' under kubelet's pod cgroup). No
// parent gives "/runlet/<id>", bundle.DefaultSpec's choice.
func CgroupsPath(parent, id string) string {
	switch {
	case parent == "":
		return "/runlet/" + id
	case strings.HasSuffix(path.Base(parent), ".slice"):
		return path.Base(parent) + ":runlet:" + id
	}
	return path.Join(parent, "runlet-"+id)
}

// checkCgroupParent refuses a cgroupfs cgroup_parent that is relative or
// climbs with "..": the cgroup path must stay under the hierarchy kubelet
// meant. A systemd slice is used by its last element only.
func checkCgroupParent(parent string) error {
	const field = "linux.cgroup_parent"
	if parent == "" || strings.HasSuffix(path.Base(parent), ".slice") {
		return nil
	}
	if !path.IsAbs(parent) {
		return invalidf(field, "%q is not absolute", parent)
	}
	for _, elem := range strings.Split(parent, "/") {
		if elem == ".." {
			return invalidf(field, "%q contains \"..\"", parent)
		}
	}
	return nil
}
