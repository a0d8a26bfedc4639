package specgen

import (
	"path"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
)

const defaultPathEnv = bundle.DefaultPathEnv

// baseSpec is bundle.DefaultSpec as containerd's CRI starts from it: no
// /run tmpfs, no rlimits (the runtime's are inherited), the given
// ociVersion or bundle.DefaultOCIVersion.
func baseSpec(id, rootfs string, args []string, version string) *specs.Spec {
	if rootfs == "" {
		rootfs = bundle.RootfsDir
	}
	if version == "" {
		version = bundle.DefaultOCIVersion
	}
	s := bundle.DefaultSpec(id, rootfs, args)
	s.Version = version
	s.Process.Rlimits = nil
	s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/run" })
	return s
}

// maskedAndReadonlyPaths are the CRI's lists. An empty list means the
// defaults (bundle.DefaultSpec's, which are kubelet's), a deliberate
// difference from containerd, which masks nothing then: only kubelet
// always sends the lists, other clients (crictl) would get an unmasked
// /proc. The exception is a container in a user namespace, where kubelet
// sends empty lists for procMount Unmasked (which requires a user
// namespace); there they mean none. Privileged containers get none.
func maskedAndReadonlyPaths(sc *runtimeapi.LinuxContainerSecurityContext, defaults *specs.Linux, userns bool) (masked, readonly []string) {
	if sc.GetPrivileged() {
		return nil, nil
	}
	masked, readonly = sc.GetMaskedPaths(), sc.GetReadonlyPaths()
	if len(masked) == 0 && len(readonly) == 0 && userns {
		return nil, nil
	}
	if len(masked) == 0 {
		masked = defaults.MaskedPaths
	}
	if len(readonly) == 0 {
		readonly = defaults.ReadonlyPaths
	}
	return slices.Clone(masked), slices.Clone(readonly)
}

// checkPaths refuses masked or read-only paths that are not absolute and
// clean: the runtime resolves them inside the container.
func checkPaths(field string, paths []string) error {
	for _, p := range paths {
		if !path.IsAbs(p) || path.Clean(p) != p {
			return invalidf(field, "%q is not a clean absolute path", p)
		}
	}
	return nil
}

// writableSysfs makes /sys and /sys/fs/cgroup read-write, for privileged
// containers.
func writableSysfs(mounts []specs.Mount) {
	for i, m := range mounts {
		if m.Type != "sysfs" && m.Type != "cgroup" {
			continue
		}
		for j, o := range m.Options {
			if o == "ro" {
				mounts[i].Options[j] = "rw"
			}
		}
	}
}

// checkAppArmor refuses an AppArmor profile other than unconfined:
// runlet does not apply AppArmor, and containerd on a host without it
// fails such requests too ("apparmor is not supported").
func checkAppArmor(field string, sp *runtimeapi.SecurityProfile, deprecated string) error {
	if sp == nil && (deprecated == "" || deprecated == "unconfined") {
		return nil
	}
	if sp != nil && sp.GetProfileType() == runtimeapi.SecurityProfile_Unconfined {
		return nil
	}
	return unsupportedf(field+".apparmor", "AppArmor is not supported by runlet, only unconfined")
}

// sameUserns says whether a container's user namespace request matches
// its sandbox's, which it must: the container joins the pod's.
func sameUserns(a, b *runtimeapi.UserNamespace) bool {
	eq := func(x, y []*runtimeapi.IDMapping) bool {
		return slices.EqualFunc(x, y, func(p, q *runtimeapi.IDMapping) bool {
			return p.GetHostId() == q.GetHostId() && p.GetContainerId() == q.GetContainerId() && p.GetLength() == q.GetLength()
		})
	}
	modeOf := func(u *runtimeapi.UserNamespace) runtimeapi.NamespaceMode {
		if u == nil {
			return runtimeapi.NamespaceMode_NODE
		}
		return u.GetMode()
	}
	return modeOf(a) == modeOf(b) && eq(a.GetUids(), b.GetUids()) && eq(a.GetGids(), b.GetGids())
}
