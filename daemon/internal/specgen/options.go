package specgen

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ImageConfig is the part of an OCI image config a container spec uses.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        []string // KEY=value
	WorkingDir string
	User       string // "", "user", "uid", "user:group", "uid:gid", ...
	StopSignal string // not part of the spec: runletd uses it to stop
	// Volumes are the image's volume paths. runletd turns them into mounts
	// (ContainerOptions.ExtraMounts) where no CRI mount covers them.
	Volumes []string
}

// UserLookup resolves an image-style user string ("name", "uid",
// "name:group", "uid:gid", "uid:group", "name:gid") in the container's
// /etc/passwd and /etc/group. It returns the uid, the primary gid (the
// group given, else the user's passwd gid, else 0 for a numeric uid that
// has no passwd entry) and the gids of the /etc/group entries that list the
// user as a member. An unknown name is an error; LookupInRootfs builds one.
type UserLookup func(user string) (uid, gid uint32, memberGids []uint32, err error)

// SandboxOptions are what runletd knows about a sandbox besides its CRI
// config.
type SandboxOptions struct {
	ID string // sandbox id, generated and validated by runletd
	// Args is the pause program's command line (image Entrypoint+Cmd, or
	// the built-in pause, e.g. ["/pause"]). Required.
	Args     []string
	ImageEnv []string // from the pause image config
	// ImageUser is the pause image's user ("65535:65535" for
	// registry.k8s.io/pause), used without run_as_user. Numeric only.
	ImageUser  string
	ImageName  string // the pause image, for the podsandbox.image-name annotation
	RootfsPath string // relative to the bundle; "" means bundle.RootfsDir
	// NetNSPath is the pod's network namespace (from CNI); "" lets the
	// runtime create an empty one. Unused with NODE network.
	NetNSPath string
	// UsernsPath is the user namespace a userns mode POD pod joins, made
	// by runletd with the pod's mappings; "" lets the runtime create it.
	UsernsPath string
	// IDMappedMounts gives the pod's resolv.conf and /dev/shm the pod's id
	// mappings in a user namespace; see ContainerOptions.IDMappedMounts.
	IDMappedMounts bool
	// ResolvPath and ShmPath are the sandbox's resolv.conf and /dev/shm
	// directory runletd prepared ("" = not mounted). With IPC NODE the
	// host's /dev/shm is used instead of ShmPath. The pause container gets
	// no /etc/hosts or /etc/hostname, as in containerd: it resolves nothing.
	ResolvPath, ShmPath string
	OCIVersion          string // "" means bundle.DefaultOCIVersion
	// CgroupsPath overrides CgroupsPath(cfg.Linux.CgroupParent, ID).
	CgroupsPath string
	// PodAnnotations are path.Match patterns of CRI pod annotations copied
	// into the spec, like containerd's runtime pod_annotations.
	PodAnnotations []string
	// SeccompProfileRoot, when set, is the directory every Localhost
	// seccomp profile must lie in (kubelet's <root-dir>/seccomp).
	SeccompProfileRoot string
	// NoUnprivilegedPorts and NoUnprivilegedICMP turn off containerd 2's
	// defaults net.ipv4.ip_unprivileged_port_start=0 and
	// net.ipv4.ping_group_range="0 2147483647" for pods with their own
	// network namespace.
	NoUnprivilegedPorts, NoUnprivilegedICMP bool
}

// ContainerOptions are what runletd knows about a container besides its
// CRI config and its sandbox's.
type ContainerOptions struct {
	ID, SandboxID string
	// SandboxPid is the pause process, whose namespaces the container joins
	// through /proc/<pid>/ns/*.
	SandboxPid uint32
	// TargetPid is the init process of NamespaceOption.target_id, for pid
	// namespace mode TARGET.
	TargetPid  uint32
	Image      ImageConfig
	ImageName  string // for the image-name annotation; "" = cfg.Image.Image
	RootfsPath string // relative to the bundle; "" means bundle.RootfsDir
	// HostsPath, ResolvPath, HostnamePath are the sandbox's files and
	// ShmPath its /dev/shm directory ("" = not mounted). A CRI mount of the
	// same destination wins.
	HostsPath, ResolvPath, HostnamePath, ShmPath string
	// Hostname is the node's hostname, used for HOSTNAME when the sandbox
	// config has none (host network). "" asks os.Hostname.
	Hostname    string
	OCIVersion  string // "" means bundle.DefaultOCIVersion
	CgroupsPath string // overrides CgroupsPath(sandbox CgroupParent, ID)
	// UserLookup resolves user and group names; nil allows numeric users
	// only.
	UserLookup UserLookup
	// ExtraMounts are bind mounts runletd adds (image volumes); CRI mounts
	// of the same destination win.
	ExtraMounts []*runtimeapi.Mount
	// ImageMount resolves a CRI mount with the image field (image volume
	// source, KEP 4639) to the host path runletd mounted the image's
	// read-only view at (its image_sub_path included); nil makes such
	// mounts errdefs.ErrNotImplemented.
	ImageMount func(m *runtimeapi.Mount) (hostPath string, err error)
	// RecursiveReadOnly says the runtime supports "rro" mounts.
	RecursiveReadOnly bool
	// IDMappedMounts says a mount's uidMappings and gidMappings are
	// honoured: runletd makes such mounts itself for every runtime
	// (daemon/internal/idmap; runc 1.1 ignores the spec's, crun 1.8 fails
	// on them). With it the sandbox's files get the pod's mappings in a
	// user namespace; without it they are mounted unmapped (readable,
	// owned by nobody in the container) and a CRI mount with mappings is
	// errdefs.ErrNotImplemented.
	IDMappedMounts bool
	// PodAnnotations and ContainerAnnotations are path.Match patterns of
	// CRI annotations copied into the spec.
	PodAnnotations, ContainerAnnotations []string
	SeccompProfileRoot                   string
	// CDI injects the Container Device Interface devices the container
	// asks for (CDIDevices, cdi.k8s.io/ annotations) into the finished
	// spec; nil makes CDIDevices errdefs.ErrNotImplemented.
	CDI CDIInjector
}

// CDIInjector adds the CDI devices a container config names to its spec
// (daemon/internal/cdi); an unknown device is errdefs.ErrInvalidArgument.
type CDIInjector interface {
	Inject(s *specs.Spec, cfg *runtimeapi.ContainerConfig) error
}
