package specgen

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func nsPath(pid uint32, kind string) string {
	return fmt.Sprintf("/proc/%d/ns/%s", pid, kind)
}

// sandboxNamespaces: a new mount namespace always; pid, ipc and network
// new unless NODE (network NODE also keeps the host's UTS namespace, as
// containerd does); the network namespace is netnsPath, or a fresh one the
// runtime creates when netnsPath is ""; for userns mode POD the user
// namespace at usernsPath (made with the pod's mappings), or a new one the
// runtime creates when usernsPath is "".
func sandboxNamespaces(ns *runtimeapi.NamespaceOption, netnsPath, usernsPath string) ([]specs.LinuxNamespace, error) {
	for _, f := range []struct {
		name string
		mode runtimeapi.NamespaceMode
	}{{"network", ns.GetNetwork()}, {"pid", ns.GetPid()}, {"ipc", ns.GetIpc()}} {
		if f.mode == runtimeapi.NamespaceMode_TARGET {
			return nil, invalidf("linux.security_context.namespace_options."+f.name, "TARGET is only valid for a container's pid namespace")
		}
	}
	out := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if ns.GetNetwork() != runtimeapi.NamespaceMode_NODE {
		out = append(out,
			specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath},
			specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	if ns.GetPid() != runtimeapi.NamespaceMode_NODE {
		out = append(out, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if ns.GetIpc() != runtimeapi.NamespaceMode_NODE {
		out = append(out, specs.LinuxNamespace{Type: specs.IPCNamespace})
	}
	if usernsMode(ns) == runtimeapi.NamespaceMode_POD {
		out = append(out, specs.LinuxNamespace{Type: specs.UserNamespace, Path: usernsPath})
	}
	return out, nil
}

// containerNamespaces: a new mount namespace; network, IPC and UTS of the
// sandbox (joined by path) unless NODE; pid per mode: CONTAINER new, POD
// the sandbox's, TARGET the target container's, NODE the host's; the
// sandbox's user namespace for userns mode POD; a private cgroup namespace
// on a cgroup v2 host unless privileged, as containerd.
func containerNamespaces(ns *runtimeapi.NamespaceOption, o ContainerOptions, privileged, cgroup2 bool) ([]specs.LinuxNamespace, error) {
	out := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	join := func(t specs.LinuxNamespaceType, kind string) {
		out = append(out, specs.LinuxNamespace{Type: t, Path: nsPath(o.SandboxPid, kind)})
	}
	const field = "linux.security_context.namespace_options."
	needSandbox := false
	switch ns.GetNetwork() {
	case runtimeapi.NamespaceMode_POD:
		join(specs.NetworkNamespace, "net")
		join(specs.UTSNamespace, "uts")
		needSandbox = true
	case runtimeapi.NamespaceMode_NODE:
	default:
		return nil, invalidf(field+"network", "mode %s is not supported, only POD and NODE", ns.GetNetwork())
	}
	switch ns.GetIpc() {
	case runtimeapi.NamespaceMode_POD:
		join(specs.IPCNamespace, "ipc")
		needSandbox = true
	case runtimeapi.NamespaceMode_CONTAINER:
		out = append(out, specs.LinuxNamespace{Type: specs.IPCNamespace})
	case runtimeapi.NamespaceMode_NODE:
	default:
		return nil, invalidf(field+"ipc", "mode %s is not supported", ns.GetIpc())
	}
	switch ns.GetPid() {
	case runtimeapi.NamespaceMode_CONTAINER:
		out = append(out, specs.LinuxNamespace{Type: specs.PIDNamespace})
	case runtimeapi.NamespaceMode_POD:
		join(specs.PIDNamespace, "pid")
		needSandbox = true
	case runtimeapi.NamespaceMode_TARGET:
		if ns.GetTargetId() == "" || o.TargetPid == 0 {
			return nil, invalidf(field+"target_id", "pid mode TARGET needs a running target container")
		}
		out = append(out, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: nsPath(o.TargetPid, "pid")})
	case runtimeapi.NamespaceMode_NODE:
	}
	if usernsMode(ns) == runtimeapi.NamespaceMode_POD {
		join(specs.UserNamespace, "user")
		needSandbox = true
	}
	if needSandbox && o.SandboxPid == 0 {
		return nil, invalidf("SandboxPid", "joining the sandbox's namespaces needs the pid of its running pause process")
	}
	if cgroup2 && !privileged {
		out = append(out, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return out, nil
}

// usernsMode is NODE when no user namespace options are given, as
// containerd treats it (the CRI comment says POD, but with no mappings).
func usernsMode(ns *runtimeapi.NamespaceOption) runtimeapi.NamespaceMode {
	if ns.GetUsernsOptions() == nil {
		return runtimeapi.NamespaceMode_NODE
	}
	return ns.GetUsernsOptions().GetMode()
}

// UserNamespaceMappings are a pod's user namespace mappings, checked as
// its spec's are: none for userns mode NODE (or no userns options).
func UserNamespaceMappings(ns *runtimeapi.NamespaceOption) (uids, gids []specs.LinuxIDMapping, err error) {
	return idMappings(ns)
}

// idMappings checks and converts the user namespace's mappings. Mode POD
// needs both uid and gid mappings, each mapping container root, with no
// two ranges overlapping on either side; NODE must have none.
func idMappings(ns *runtimeapi.NamespaceOption) (uids, gids []specs.LinuxIDMapping, err error) {
	const field = "linux.security_context.namespace_options.userns_options"
	opts := ns.GetUsernsOptions()
	switch usernsMode(ns) {
	case runtimeapi.NamespaceMode_NODE:
		if len(opts.GetUids()) > 0 || len(opts.GetGids()) > 0 {
			return nil, nil, invalidf(field, "mode NODE takes no uid or gid mappings")
		}
		return nil, nil, nil
	case runtimeapi.NamespaceMode_POD:
	default:
		return nil, nil, invalidf(field, "mode %s is not supported, only POD and NODE", opts.GetMode())
	}
	if len(opts.GetUids()) == 0 || len(opts.GetGids()) == 0 {
		return nil, nil, invalidf(field, "mode POD needs uid and gid mappings")
	}
	if uids, err = convertMappings(field+".uids", opts.GetUids()); err != nil {
		return nil, nil, err
	}
	gids, err = convertMappings(field+".gids", opts.GetGids())
	return uids, gids, err
}

func convertMappings(field string, in []*runtimeapi.IDMapping) ([]specs.LinuxIDMapping, error) {
	out, err := convertEach(field, in)
	if err != nil || len(out) == 0 {
		return out, err
	}
	if !slices.ContainsFunc(out, func(m specs.LinuxIDMapping) bool { return m.ContainerID == 0 }) {
		return nil, invalidf(field, "container id 0 (root) is not mapped")
	}
	// Host root inside a pod would own the node's root files there.
	if i := slices.IndexFunc(out, func(m specs.LinuxIDMapping) bool { return m.HostID == 0 }); i >= 0 {
		return nil, invalidf(field, "mapping %d maps host id 0 (root) into the pod", i)
	}
	for i, a := range out {
		for _, b := range out[i+1:] {
			if overlap(a.ContainerID, b.ContainerID, a.Size, b.Size) || overlap(a.HostID, b.HostID, a.Size, b.Size) {
				return nil, invalidf(field, "mappings %v and %v overlap", a, b)
			}
		}
	}
	return out, nil
}

func overlap(a, b, sizeA, sizeB uint32) bool {
	return uint64(a) < uint64(b)+uint64(sizeB) && uint64(b) < uint64(a)+uint64(sizeA)
}

func convertEach(field string, in []*runtimeapi.IDMapping) ([]specs.LinuxIDMapping, error) {
	var out []specs.LinuxIDMapping
	for i, m := range in {
		if m.GetLength() == 0 {
			return nil, invalidf(field, "mapping %d has length 0", i)
		}
		if uint64(m.GetHostId())+uint64(m.GetLength()) > 1<<32 || uint64(m.GetContainerId())+uint64(m.GetLength()) > 1<<32 {
			return nil, invalidf(field, "mapping %d overflows 32-bit ids", i)
		}
		out = append(out, specs.LinuxIDMapping{HostID: m.GetHostId(), ContainerID: m.GetContainerId(), Size: m.GetLength()})
	}
	return out, nil
}
