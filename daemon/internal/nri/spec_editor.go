package nri

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// specEditor edits an OCI spec in place for NRI's generator helpers
// (their UnderlyingGenerator): the small part of runtime-tools'
// generator they call, without that module.
type specEditor struct{ spec *specs.Spec }

func (g *specEditor) Spec() *specs.Spec { return g.spec }

func (g *specEditor) process() *specs.Process {
	if g.spec.Process == nil {
		g.spec.Process = &specs.Process{}
	}
	return g.spec.Process
}

func (g *specEditor) linux() *specs.Linux {
	if g.spec.Linux == nil {
		g.spec.Linux = &specs.Linux{}
	}
	return g.spec.Linux
}

func (g *specEditor) resources() *specs.LinuxResources {
	l := g.linux()
	if l.Resources == nil {
		l.Resources = &specs.LinuxResources{}
	}
	return l.Resources
}

func (g *specEditor) cpu() *specs.LinuxCPU {
	r := g.resources()
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	return r.CPU
}

func (g *specEditor) memory() *specs.LinuxMemory {
	r := g.resources()
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	return r.Memory
}

func (g *specEditor) hooks() *specs.Hooks {
	if g.spec.Hooks == nil {
		g.spec.Hooks = &specs.Hooks{}
	}
	return g.spec.Hooks
}

func (g *specEditor) AddAnnotation(key, value string) {
	if g.spec.Annotations == nil {
		g.spec.Annotations = map[string]string{}
	}
	g.spec.Annotations[key] = value
}

func (g *specEditor) RemoveAnnotation(key string) { delete(g.spec.Annotations, key) }

// AddDevice adds a device node, replacing one at the same path.
func (g *specEditor) AddDevice(d specs.LinuxDevice) {
	l := g.linux()
	for i := range l.Devices {
		if l.Devices[i].Path == d.Path {
			l.Devices[i] = d
			return
		}
	}
	l.Devices = append(l.Devices, d)
}

func (g *specEditor) RemoveDevice(path string) {
	if g.spec.Linux == nil {
		return
	}
	g.spec.Linux.Devices = slices.DeleteFunc(g.spec.Linux.Devices, func(d specs.LinuxDevice) bool { return d.Path == path })
}

// namespaceType checks a namespace name against the OCI types.
func namespaceType(ns string) (specs.LinuxNamespaceType, error) {
	switch t := specs.LinuxNamespaceType(ns); t {
	case specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
		specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace:
		return t, nil
	}
	if ns == "net" {
		return specs.NetworkNamespace, nil
	}
	return "", fmt.Errorf("unknown namespace type %q", ns)
}

func (g *specEditor) AddOrReplaceLinuxNamespace(ns, path string) error {
	t, err := namespaceType(ns)
	if err != nil {
		return err
	}
	l := g.linux()
	for i := range l.Namespaces {
		if l.Namespaces[i].Type == t {
			l.Namespaces[i].Path = path
			return nil
		}
	}
	l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: t, Path: path})
	return nil
}

func (g *specEditor) RemoveLinuxNamespace(ns string) error {
	t, err := namespaceType(ns)
	if err != nil {
		return err
	}
	if g.spec.Linux != nil {
		g.spec.Linux.Namespaces = slices.DeleteFunc(g.spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == t })
	}
	return nil
}

func (g *specEditor) AddPreStartHook(h specs.Hook) {
	hooks := g.hooks()
	hooks.Prestart = append(hooks.Prestart, h) //nolint:staticcheck // NRI still sets prestart hooks
}

func (g *specEditor) AddPostStartHook(h specs.Hook) {
	g.hooks().Poststart = append(g.hooks().Poststart, h)
}

func (g *specEditor) AddPostStopHook(h specs.Hook) {
	g.hooks().Poststop = append(g.hooks().Poststop, h)
}

// AddProcessEnv sets name=value, replacing name's entry.
func (g *specEditor) AddProcessEnv(name, value string) {
	p := g.process()
	for i, e := range p.Env {
		if k, _, _ := strings.Cut(e, "="); k == name {
			p.Env[i] = name + "=" + value
			return
		}
	}
	p.Env = append(p.Env, name+"="+value)
}

func (g *specEditor) ClearProcessEnv() { g.process().Env = []string{} }

func (g *specEditor) SetProcessArgs(args []string) { g.process().Args = args }

func (g *specEditor) SetProcessOOMScoreAdj(adj int) { g.process().OOMScoreAdj = &adj }

func (g *specEditor) AddLinuxResourcesDevice(allow bool, devType string, major, minor *int64, access string) {
	r := g.resources()
	r.Devices = append(r.Devices, specs.LinuxDeviceCgroup{Allow: allow, Type: devType, Major: major, Minor: minor, Access: access})
}

// AddLinuxResourcesHugepageLimit sets the limit of a page size.
func (g *specEditor) AddLinuxResourcesHugepageLimit(pageSize string, limit uint64) {
	r := g.resources()
	for i := range r.HugepageLimits {
		if r.HugepageLimits[i].Pagesize == pageSize {
			r.HugepageLimits[i].Limit = limit
			return
		}
	}
	r.HugepageLimits = append(r.HugepageLimits, specs.LinuxHugepageLimit{Pagesize: pageSize, Limit: limit})
}

func (g *specEditor) AddLinuxResourcesUnified(key, val string) {
	r := g.resources()
	if r.Unified == nil {
		r.Unified = map[string]string{}
	}
	r.Unified[key] = val
}

func (g *specEditor) AddLinuxSysctl(key, value string) {
	l := g.linux()
	if l.Sysctl == nil {
		l.Sysctl = map[string]string{}
	}
	l.Sysctl[key] = value
}

func (g *specEditor) RemoveLinuxSysctl(key string) {
	if g.spec.Linux != nil {
		delete(g.spec.Linux.Sysctl, key)
	}
}

func (g *specEditor) AddMount(m specs.Mount) { g.spec.Mounts = append(g.spec.Mounts, m) }

func (g *specEditor) ClearMounts() { g.spec.Mounts = []specs.Mount{} }

func (g *specEditor) Mounts() []specs.Mount { return g.spec.Mounts }

func (g *specEditor) RemoveMount(dest string) {
	g.spec.Mounts = slices.DeleteFunc(g.spec.Mounts, func(m specs.Mount) bool { return m.Destination == dest })
}

func (g *specEditor) SetLinuxCgroupsPath(path string) { g.linux().CgroupsPath = path }

func (g *specEditor) SetLinuxResourcesCPUCpus(cpus string) { g.cpu().Cpus = cpus }

func (g *specEditor) SetLinuxResourcesCPUMems(mems string) { g.cpu().Mems = mems }

func (g *specEditor) SetLinuxResourcesCPUPeriod(period uint64) { g.cpu().Period = &period }

func (g *specEditor) SetLinuxResourcesCPUQuota(quota int64) { g.cpu().Quota = &quota }

func (g *specEditor) SetLinuxResourcesCPURealtimePeriod(period uint64) {
	g.cpu().RealtimePeriod = &period
}

func (g *specEditor) SetLinuxResourcesCPURealtimeRuntime(t int64) { g.cpu().RealtimeRuntime = &t }

func (g *specEditor) SetLinuxResourcesCPUShares(shares uint64) { g.cpu().Shares = &shares }

func (g *specEditor) SetLinuxResourcesMemoryLimit(limit int64) { g.memory().Limit = &limit }

func (g *specEditor) SetLinuxResourcesMemorySwap(swap int64) { g.memory().Swap = &swap }

// SetLinuxRootPropagation sets the rootfs propagation, one of the mount
// propagation modes.
func (g *specEditor) SetLinuxRootPropagation(rp string) error {
	switch rp {
	case "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
		g.linux().RootfsPropagation = rp
		return nil
	}
	return fmt.Errorf("rootfs propagation %q is not a propagation mode", rp)
}
