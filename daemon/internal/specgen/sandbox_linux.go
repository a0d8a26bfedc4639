package specgen

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Pause container defaults, as containerd's.
const (
	sandboxOOMScoreAdj = -998 // the shim clamps it to what the host allows
	sandboxCPUShares   = 2
)

// SandboxSpec is the pause container's spec for a pod, as containerd
// builds it: o.Args as the process with the image env, a read-only rootfs,
// no new privileges, the pod's hostname, namespaces per the sandbox's
// NamespaceOption (network o.NetNSPath), the sandbox's /dev/shm and
// resolv.conf bound read-only, run_as_user/run_as_group (numeric only:
// the pause image has no /etc/passwd) with the supplemental groups, the
// sandbox's seccomp profile, the pod's sysctls (validated), 2 CPU shares,
// oom_score_adj -998, the cgroup under cgroup_parent and containerd's
// annotations.
func SandboxSpec(cfg *runtimeapi.PodSandboxConfig, o SandboxOptions) (*specs.Spec, error) {
	if cfg == nil {
		return nil, invalidf("config", "missing")
	}
	if o.ID == "" || len(o.Args) == 0 {
		return nil, invalidf("SandboxOptions", "ID and Args are required")
	}
	sc := cfg.GetLinux().GetSecurityContext()
	ns := sc.GetNamespaceOptions()
	s := baseSpec(o.ID, o.RootfsPath, o.Args, o.OCIVersion)
	s.Process.Env = mergeEnv([]string{defaultPathEnv}, o.ImageEnv...)
	s.Process.NoNewPrivileges = true
	s.Root.Readonly = true
	if ns.GetNetwork() != runtimeapi.NamespaceMode_NODE {
		s.Hostname = cfg.GetHostname()
	}
	if err := sandboxIsolation(s, cfg, o); err != nil {
		return nil, err
	}
	s.Mounts = append(withoutMount(s.Mounts, devShm), sandboxMounts(ns, o, s.Linux)...)
	if sc.GetPrivileged() {
		// Mounts of sysfs share one superblock per network namespace, and
		// runc mounts a read-only sysfs read-only at the superblock: a
		// read-only /sys in the pause container would make /sys read-only
		// in the pod's privileged containers too. Unlike containerd.
		writableSysfs(s.Mounts)
	}
	user, err := sandboxUser(sc, o.ImageUser)
	if err != nil {
		return nil, err
	}
	s.Process.User = user
	shares, adj := uint64(sandboxCPUShares), sandboxOOMScoreAdj
	s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares}
	s.Process.OOMScoreAdj = &adj
	s.Linux.CgroupsPath = o.CgroupsPath
	if s.Linux.CgroupsPath == "" {
		if err := checkCgroupParent(cfg.GetLinux().GetCgroupParent()); err != nil {
			return nil, err
		}
		s.Linux.CgroupsPath = CgroupsPath(cfg.GetLinux().GetCgroupParent(), o.ID)
	}
	s.Annotations = sandboxAnnotations(o.ID, o.ImageName, cfg, o.PodAnnotations)
	return s, nil
}

// sandboxIsolation sets the namespaces, id mappings, sysctls, seccomp and
// AppArmor check of the pause container.
func sandboxIsolation(s *specs.Spec, cfg *runtimeapi.PodSandboxConfig, o SandboxOptions) error {
	sc := cfg.GetLinux().GetSecurityContext()
	namespaces, err := sandboxNamespaces(sc.GetNamespaceOptions(), o.NetNSPath, o.UsernsPath)
	if err != nil {
		return err
	}
	s.Linux.Namespaces = namespaces
	if s.Linux.UIDMappings, s.Linux.GIDMappings, err = idMappings(sc.GetNamespaceOptions()); err != nil {
		return err
	}
	if s.Linux.Sysctl, err = sandboxSysctls(cfg, o, s.Linux.UIDMappings != nil); err != nil {
		return err
	}
	const field = "linux.security_context"
	if s.Linux.Seccomp, err = seccompProfile(field, sc.GetSeccomp(), sc.GetSeccompProfilePath(), sc.GetPrivileged(), s.Process.Capabilities.Bounding, o.SeccompProfileRoot); err != nil {
		return err
	}
	return checkAppArmor(field, sc.GetApparmor(), "")
}

// sandboxMounts bind the pod's /dev/shm (the host's with IPC NODE) and
// resolv.conf read-only, with nosuid, nodev, noexec as containerd (needed
// in a user namespace, where the remount would otherwise fail). With
// o.IDMappedMounts the pod's own files carry the pod's id mappings.
func sandboxMounts(ns *runtimeapi.NamespaceOption, o SandboxOptions, l *specs.Linux) []specs.Mount {
	opts := []string{"rbind", "ro", "nosuid", "nodev", "noexec"}
	mapped := func(m specs.Mount) specs.Mount {
		if o.IDMappedMounts && l.UIDMappings != nil {
			m.UIDMappings, m.GIDMappings = l.UIDMappings, l.GIDMappings
		}
		return m
	}
	var out []specs.Mount
	switch {
	case ns.GetIpc() == runtimeapi.NamespaceMode_NODE:
		out = append(out, specs.Mount{Destination: devShm, Type: "bind", Source: devShm, Options: opts})
	case o.ShmPath != "":
		out = append(out, mapped(specs.Mount{Destination: devShm, Type: "bind", Source: o.ShmPath, Options: opts}))
	default:
		out = append(out, specs.Mount{Destination: devShm, Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}})
	}
	if o.ResolvPath != "" {
		out = append(out, mapped(specs.Mount{Destination: resolvConf, Type: "bind", Source: o.ResolvPath, Options: opts}))
	}
	return out
}

func withoutMount(mounts []specs.Mount, dst string) []specs.Mount {
	return slices.DeleteFunc(slices.Clone(mounts), func(m specs.Mount) bool { return m.Destination == dst })
}

// sandboxUser is run_as_user[:run_as_group], else the image's user, else
// root, with the sandbox's supplemental groups.
func sandboxUser(sc *runtimeapi.LinuxSandboxSecurityContext, imageUser string) (specs.User, error) {
	user, err := userString(&runtimeapi.LinuxContainerSecurityContext{RunAsUser: sc.GetRunAsUser(), RunAsGroup: sc.GetRunAsGroup()}, imageUser)
	if err != nil {
		return specs.User{}, err
	}
	return resolveUser(user, nil, sc.GetSupplementalGroups(), sc.GetSupplementalGroupsPolicy())
}
