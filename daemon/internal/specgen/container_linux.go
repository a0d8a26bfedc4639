package specgen

import (
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerSpec is an app container's spec, as containerd's CRI builds
// it from the container's config, its sandbox's config and o: process
// (command, env, working dir, user, capabilities, no_new_privs, seccomp,
// oom_score_adj), namespaces joined from the sandbox, mounts (defaults,
// the sandbox's files, CRI and extra mounts), devices, resources, the
// cgroup under the pod's cgroup_parent and containerd's annotations.
func ContainerSpec(cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, o ContainerOptions) (*specs.Spec, error) {
	if cfg == nil || sb == nil {
		return nil, invalidf("config", "container and sandbox configs are required")
	}
	if o.ID == "" || o.SandboxID == "" {
		return nil, invalidf("ContainerOptions", "ID and SandboxID are required")
	}
	sc := cfg.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() && !sb.GetLinux().GetSecurityContext().GetPrivileged() {
		return nil, invalidf("linux.security_context.privileged", "the sandbox does not allow privileged containers")
	}
	args, err := processArgs(cfg, o.Image)
	if err != nil {
		return nil, err
	}
	s := baseSpec(o.ID, o.RootfsPath, args, o.OCIVersion)
	steps := []func(*specs.Spec, *runtimeapi.ContainerConfig, *runtimeapi.PodSandboxConfig, ContainerOptions) error{
		containerProcess, containerUser, containerCaps, containerNamespacesAndIDs,
		containerMounts, containerDevices, containerLimits, containerSeccomp, containerCDI,
	}
	for _, step := range steps {
		if err := step(s, cfg, sb, o); err != nil {
			return nil, err
		}
	}
	s.Root.Readonly = sc.GetReadonlyRootfs()
	s.Linux.CgroupsPath = o.CgroupsPath
	if s.Linux.CgroupsPath == "" {
		if err := checkCgroupParent(sb.GetLinux().GetCgroupParent()); err != nil {
			return nil, err
		}
		s.Linux.CgroupsPath = CgroupsPath(sb.GetLinux().GetCgroupParent(), o.ID)
	}
	s.Annotations = containerAnnotations(cfg, sb, o)
	return s, nil
}

// containerProcess sets env, working dir, terminal and no_new_privs
// (off unless asked, as containerd).
func containerProcess(s *specs.Spec, cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, o ContainerOptions) error {
	hostname := sb.GetHostname()
	if hostname == "" {
		hostname = o.Hostname
	}
	if hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
		hostname = h
	}
	env, err := containerEnv(cfg, o.Image, hostname)
	if err != nil {
		return err
	}
	cwd, err := workingDir(cfg, o.Image)
	if err != nil {
		return err
	}
	s.Process.Env, s.Process.Cwd, s.Process.Terminal = env, cwd, cfg.GetTty()
	s.Process.NoNewPrivileges = cfg.GetLinux().GetSecurityContext().GetNoNewPrivs()
	return nil
}

// containerUser resolves the process user in the container's rootfs.
func containerUser(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, o ContainerOptions) error {
	sc := cfg.GetLinux().GetSecurityContext()
	user, err := userString(sc, o.Image.User)
	if err != nil {
		return err
	}
	s.Process.User, err = resolveUser(user, o.UserLookup, sc.GetSupplementalGroups(), sc.GetSupplementalGroupsPolicy())
	return err
}

// containerCaps: all available capabilities when privileged, else the
// defaults adjusted by the CRI request.
func containerCaps(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, _ ContainerOptions) error {
	sc := cfg.GetLinux().GetSecurityContext()
	available, err := availableCapabilities()
	if err != nil {
		return err
	}
	if sc.GetPrivileged() {
		s.Process.Capabilities = allCapabilities(available)
		return nil
	}
	s.Process.Capabilities, err = containerCapabilities(sc.GetCapabilities(), s.Process.Capabilities.Bounding, available)
	return err
}

// containerNamespacesAndIDs joins the sandbox's namespaces and, in a user
// namespace, maps ids as the pod does (which the container must ask for).
func containerNamespacesAndIDs(s *specs.Spec, cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, o ContainerOptions) error {
	sc := cfg.GetLinux().GetSecurityContext()
	ns := sc.GetNamespaceOptions()
	if !sameUserns(ns.GetUsernsOptions(), sb.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()) {
		return invalidf("linux.security_context.namespace_options.userns_options", "differs from the sandbox's")
	}
	var err error
	if s.Linux.Namespaces, err = containerNamespaces(ns, o, sc.GetPrivileged(), currentHostCgroups().unified); err != nil {
		return err
	}
	s.Linux.UIDMappings, s.Linux.GIDMappings, err = idMappings(ns)
	return err
}

// containerMounts: the default mounts a supplied mount does not replace,
// then the CRI mounts and the sandbox's files and extra mounts; masked
// and read-only paths; a writable /sys for privileged containers.
func containerMounts(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, o ContainerOptions) error {
	sc := cfg.GetLinux().GetSecurityContext()
	extra := append(sandboxFileMounts(o, sc), o.ExtraMounts...)
	supplied := mergeMounts(cfg.GetMounts(), extra)
	mc := mountContext{imageMount: o.ImageMount, recursiveReadOnly: o.RecursiveReadOnly, idMappedMounts: o.IDMappedMounts, propagationOf: hostPropagation}
	binds, rootProp, err := mc.bindMounts(supplied)
	if err != nil {
		return err
	}
	s.Mounts = append(keepDefaultMounts(s.Mounts, supplied), binds...)
	s.Linux.RootfsPropagation = rootProp
	if err := checkPaths("linux.security_context.masked_paths", sc.GetMaskedPaths()); err != nil {
		return err
	}
	if err := checkPaths("linux.security_context.readonly_paths", sc.GetReadonlyPaths()); err != nil {
		return err
	}
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = maskedAndReadonlyPaths(sc, s.Linux, s.Linux.UIDMappings != nil)
	if sc.GetPrivileged() {
		writableSysfs(s.Mounts)
	}
	return nil
}

// containerDevices: the CRI devices; for privileged containers every host
// device and access to all devices.
func containerDevices(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, _ ContainerOptions) error {
	if cfg.GetLinux().GetSecurityContext().GetPrivileged() {
		devs, err := hostDevices()
		if err != nil {
			return fmt.Errorf("host devices for a privileged container: %w", err)
		}
		s.Linux.Devices = devs
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	devs, rules, err := criDevices(cfg.GetDevices())
	if err != nil {
		return err
	}
	s.Linux.Devices = append(s.Linux.Devices, devs...)
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rules...)
	return nil
}

// containerCDI injects the CDI devices last, as containerd does, so that
// their env, mounts and device nodes win over what came before. Without an
// injector CDI devices are refused rather than silently dropped.
func containerCDI(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, o ContainerOptions) error {
	if o.CDI == nil {
		if len(cfg.GetCDIDevices()) > 0 {
			return unsupportedf("CDI_devices", "CDI is off (cdi_spec_dirs is empty), cannot inject %s", cfg.GetCDIDevices()[0].GetName())
		}
		return nil
	}
	if err := o.CDI.Inject(s, cfg); err != nil {
		return err
	}
	cdiBindMounts(s, o.IDMappedMounts)
	return nil
}

// cdiBindMounts makes the bind mounts CDI specs add what the runtimes
// take: type "bind" where the spec gave none (CDI specs often do not;
// crun 1.8 fails on such a mount in a user namespace), and, for the
// "idmap"/"ridmap" options the CDI library adds in a user namespace, the
// pod's mappings on the mount, which runletd stages itself (see
// ContainerOptions.IDMappedMounts), or without that a plain bind mount.
// Left as options, runc 1.1 ignores them and crun 1.8 fails on them.
func cdiBindMounts(s *specs.Spec, idmapped bool) {
	for i := range s.Mounts {
		m := &s.Mounts[i]
		if m.Type == "" && (slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")) {
			m.Type = "bind"
		}
		if m.UIDMappings != nil || m.GIDMappings != nil {
			continue
		}
		n := len(m.Options)
		m.Options = slices.DeleteFunc(m.Options, func(o string) bool { return o == "idmap" || o == "ridmap" })
		if len(m.Options) != n && idmapped && s.Linux.UIDMappings != nil {
			m.UIDMappings, m.GIDMappings = s.Linux.UIDMappings, s.Linux.GIDMappings
		}
	}
}

// containerLimits: resources and, when resources are given, their
// oom_score_adj.
func containerLimits(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, _ ContainerOptions) error {
	r := cfg.GetLinux().GetResources()
	if err := containerResources(r, s.Linux.Resources, currentHostCgroups()); err != nil {
		return err
	}
	if r != nil {
		adj := int(r.GetOomScoreAdj())
		if adj < -1000 || adj > 1000 {
			return invalidf("linux.resources.oom_score_adj", "%d is outside -1000..1000", adj)
		}
		s.Process.OOMScoreAdj = &adj
	}
	return nil
}

// containerSeccomp sets the seccomp profile and refuses AppArmor profiles.
func containerSeccomp(s *specs.Spec, cfg *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig, o ContainerOptions) error {
	sc := cfg.GetLinux().GetSecurityContext()
	const field = "linux.security_context"
	var err error
	s.Linux.Seccomp, err = seccompProfile(field, sc.GetSeccomp(), sc.GetSeccompProfilePath(), sc.GetPrivileged(), s.Process.Capabilities.Bounding, o.SeccompProfileRoot)
	if err != nil {
		return err
	}
	return checkAppArmor(field, sc.GetApparmor(), sc.GetApparmorProfile())
}
