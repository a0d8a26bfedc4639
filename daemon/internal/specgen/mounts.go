package specgen

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Destinations of the files a sandbox shares with its containers.
const (
	etcHosts    = "/etc/hosts"
	etcHostname = "/etc/hostname"
	resolvConf  = "/etc/resolv.conf"
	devShm      = "/dev/shm"
)

// allowedMountOptions are the CRI mount_options runlet passes on: the
// per-mount flags a bind mount may carry. Anything else is refused rather
// than handed to the runtime unchecked.
var allowedMountOptions = []string{"nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime", "strictatime", "suid", "dev", "exec", "atime", "diratime"}

// mountContext is what turning CRI mounts into spec mounts depends on.
type mountContext struct {
	imageMount        func(*runtimeapi.Mount) (string, error)
	recursiveReadOnly bool
	idMappedMounts    bool
	// propagationOf reports whether the mount holding a host path is shared
	// or a slave (linux: /proc/self/mountinfo).
	propagationOf func(hostPath string) (shared, slave bool, err error)
}

// sandboxFileMounts are containerd's extra mounts for a container: the
// sandbox's /etc/hostname, /etc/hosts, /etc/resolv.conf (read-only with a
// read-only rootfs) and /dev/shm (the host's with IPC NODE), each only when
// the file exists, as containerd skips missing ones. In a user namespace
// the files are id-mapped like the pod when the runtime can do it.
func sandboxFileMounts(o ContainerOptions, sc *runtimeapi.LinuxContainerSecurityContext) []*runtimeapi.Mount {
	var uids, gids []*runtimeapi.IDMapping
	if userns := sc.GetNamespaceOptions().GetUsernsOptions(); userns.GetMode() == runtimeapi.NamespaceMode_POD && o.IDMappedMounts {
		uids, gids = userns.GetUids(), userns.GetGids()
	}
	ro := sc.GetReadonlyRootfs()
	var out []*runtimeapi.Mount
	for _, f := range []struct{ dst, src string }{{etcHostname, o.HostnamePath}, {etcHosts, o.HostsPath}, {resolvConf, o.ResolvPath}} {
		if exists(f.src) {
			out = append(out, &runtimeapi.Mount{ContainerPath: f.dst, HostPath: f.src, Readonly: ro, UidMappings: uids, GidMappings: gids})
		}
	}
	if sc.GetNamespaceOptions().GetIpc() == runtimeapi.NamespaceMode_NODE {
		if exists(devShm) {
			out = append(out, &runtimeapi.Mount{ContainerPath: devShm, HostPath: devShm})
		}
	} else if exists(o.ShmPath) {
		// Mapped too (tmpfs takes id-mapped mounts from Linux 6.3): runc
		// 1.1 reaches an unmapped source only through runletd's private
		// state directory, which the mapped root cannot.
		out = append(out, &runtimeapi.Mount{ContainerPath: devShm, HostPath: o.ShmPath, UidMappings: uids, GidMappings: gids})
	}
	return out
}

func exists(p string) bool {
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// mergeMounts is containerd's rule: every CRI mount, then each extra mount
// whose destination no CRI mount has, sorted stably by depth so that a
// mount never hides a deeper one.
func mergeMounts(cri, extra []*runtimeapi.Mount) []*runtimeapi.Mount {
	out := slices.Clone(cri)
	for _, e := range extra {
		if !slices.ContainsFunc(cri, func(c *runtimeapi.Mount) bool {
			return path.Clean(c.GetContainerPath()) == path.Clean(e.GetContainerPath())
		}) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return depth(out[i].GetContainerPath()) < depth(out[j].GetContainerPath()) })
	return out
}

func depth(p string) int { return strings.Count(path.Clean(p), "/") }

// keepDefaultMounts drops the default mounts a supplied mount replaces:
// the same destination, and everything under /dev when /dev is supplied.
func keepDefaultMounts(defaults []specs.Mount, supplied []*runtimeapi.Mount) []specs.Mount {
	dsts := map[string]bool{}
	for _, m := range supplied {
		dsts[path.Clean(m.GetContainerPath())] = true
	}
	return slices.DeleteFunc(slices.Clone(defaults), func(m specs.Mount) bool {
		d := path.Clean(m.Destination)
		return dsts[d] || (dsts["/dev"] && strings.HasPrefix(d, "/dev/"))
	})
}

// bindMount validates one CRI mount and returns its spec mount and the
// rootfs propagation it needs ("" for none).
func (mc mountContext) bindMount(field string, m *runtimeapi.Mount) (specs.Mount, string, error) {
	dst := m.GetContainerPath()
	if !path.IsAbs(dst) {
		return specs.Mount{}, "", invalidf(field+".container_path", "%q is not an absolute path", dst)
	}
	src, err := mc.source(field, m)
	if err != nil {
		return specs.Mount{}, "", err
	}
	ro, err := mc.readonlyOption(field, m)
	if err != nil {
		return specs.Mount{}, "", err
	}
	opts, rootProp, err := mc.propagation(field, m, src)
	if err != nil {
		return specs.Mount{}, "", err
	}
	opts = append(opts, ro)
	for _, o := range m.GetMountOptions() {
		if !slices.Contains(allowedMountOptions, o) {
			return specs.Mount{}, "", invalidf(field+".mount_options", "option %q is not allowed, only %v", o, allowedMountOptions)
		}
		opts = append(opts, o)
	}
	if (len(m.GetUidMappings()) > 0 || len(m.GetGidMappings()) > 0) && !mc.idMappedMounts {
		return specs.Mount{}, "", unsupportedf(field+".uidMappings", "the runtime handler does not support id-mapped mounts")
	}
	uids, err := convertMappings(field+".uidMappings", m.GetUidMappings())
	if err != nil {
		return specs.Mount{}, "", err
	}
	gids, err := convertMappings(field+".gidMappings", m.GetGidMappings())
	if err != nil {
		return specs.Mount{}, "", err
	}
	return specs.Mount{Destination: path.Clean(dst), Type: "bind", Source: src, Options: opts, UIDMappings: uids, GIDMappings: gids}, rootProp, nil
}

// source is the host path with symlinks resolved (the CRI asks runtimes to
// mount a symlink's target); a path that does not exist is invalid, as
// kubelet expects (containerd would create a directory instead).
func (mc mountContext) source(field string, m *runtimeapi.Mount) (string, error) {
	if m.GetImage() != nil && m.GetImage().GetImage() != "" {
		if m.GetHostPath() != "" {
			return "", invalidf(field, "host_path and image are mutually exclusive")
		}
		if mc.imageMount == nil {
			return "", unsupportedf(field+".image", "image volume mounts are not supported yet")
		}
		return mc.imageMount(m)
	}
	src := m.GetHostPath()
	if !filepath.IsAbs(src) {
		return "", invalidf(field+".host_path", "%q is not an absolute path", src)
	}
	resolved, err := filepath.EvalSymlinks(src)
	if os.IsNotExist(err) {
		return "", invalidf(field+".host_path", "%q does not exist", src)
	}
	if err != nil {
		return "", fmt.Errorf("%s.host_path: resolve %q: %w", field, src, err)
	}
	return resolved, nil
}

// propagation maps PRIVATE to rprivate, HOST_TO_CONTAINER to rslave (the
// host mount must be shared or a slave) and BIDIRECTIONAL to rshared (the
// host mount must be shared), and makes the rootfs propagation follow, as
// containerd does.
func (mc mountContext) propagation(field string, m *runtimeapi.Mount, src string) ([]string, string, error) {
	switch m.GetPropagation() {
	case runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return []string{"rbind", "rprivate"}, "", nil
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		shared, slave, err := mc.propagationOf(src)
		if err != nil {
			return nil, "", err
		}
		if !shared && !slave {
			return nil, "", fmt.Errorf("%s.propagation: HOST_TO_CONTAINER needs %q on a shared or slave host mount: %w", field, src, errdefs.ErrFailedPrecondition)
		}
		return []string{"rbind", "rslave"}, "rslave", nil
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		shared, _, err := mc.propagationOf(src)
		if err != nil {
			return nil, "", err
		}
		if !shared {
			return nil, "", fmt.Errorf("%s.propagation: BIDIRECTIONAL needs %q on a shared host mount: %w", field, src, errdefs.ErrFailedPrecondition)
		}
		return []string{"rbind", "rshared"}, "rshared", nil
	}
	return nil, "", invalidf(field+".propagation", "unknown mode %d", m.GetPropagation())
}

// readonlyOption is "ro", "rw", or "rro" for recursive_read_only, which
// needs readonly, PRIVATE propagation and a runtime that supports it.
func (mc mountContext) readonlyOption(field string, m *runtimeapi.Mount) (string, error) {
	switch {
	case !m.GetReadonly() && m.GetRecursiveReadOnly():
		return "", invalidf(field+".recursive_read_only", "needs readonly")
	case !m.GetReadonly():
		return "rw", nil
	case !m.GetRecursiveReadOnly():
		return "ro", nil
	case m.GetPropagation() != runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return "", invalidf(field+".recursive_read_only", "needs propagation PRIVATE, not %s", m.GetPropagation())
	case !mc.recursiveReadOnly:
		return "", unsupportedf(field+".recursive_read_only", "the runtime handler does not support recursive read-only mounts")
	}
	return "rro", nil
}

// bindMounts turns the merged mounts into spec mounts and the strongest
// rootfs propagation they need (rshared over rslave).
func (mc mountContext) bindMounts(mounts []*runtimeapi.Mount) ([]specs.Mount, string, error) {
	var out []specs.Mount
	rootProp := ""
	for i, m := range mounts {
		sm, prop, err := mc.bindMount(fmt.Sprintf("mounts[%d]", i), m)
		if err != nil {
			return nil, "", err
		}
		if prop == "rshared" || (prop == "rslave" && rootProp == "") {
			rootProp = prop
		}
		out = append(out, sm)
	}
	return out, rootProp, nil
}
