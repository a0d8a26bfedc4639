package bundle

import specs "github.com/opencontainers/runtime-spec/specs-go"

// DefaultPathEnv is the PATH of a container whose image sets none.
const DefaultPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultCapabilities are the capabilities of a container process, as in
// containerd's default spec.
var defaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

var defaultMaskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
}

var defaultReadonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// DefaultSpec returns the spec of a plain Linux container running args as
// root, with rootfs (relative to the bundle, usually "rootfs") as its root:
// its own pid, ipc, uts, mount and network namespaces, the standard /proc,
// /dev, /sys and cgroup mounts, containerd's default capabilities, masked
// and read-only /proc and /sys paths, 1024 open files, no new privileges,
// no device access beyond the runtime's defaults, and cgroup /runlet/<id>.
// Its ociVersion is DefaultOCIVersion; runc and crun on the host accept it.
func DefaultSpec(id, rootfs string, args []string) *specs.Spec {
	return &specs.Spec{
		Version: DefaultOCIVersion,
		Root:    &specs.Root{Path: rootfs},
		Process: defaultProcess(args),
		Mounts:  defaultMounts(),
		Linux: &specs.Linux{
			CgroupsPath:   "/runlet/" + id,
			Namespaces:    defaultNamespaces(),
			MaskedPaths:   append([]string(nil), defaultMaskedPaths...),
			ReadonlyPaths: append([]string(nil), defaultReadonlyPaths...),
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
		},
	}
}

func defaultProcess(args []string) *specs.Process {
	caps := func() []string { return append([]string(nil), defaultCapabilities...) }
	return &specs.Process{
		Args: append([]string(nil), args...),
		Env:  []string{DefaultPathEnv},
		Cwd:  "/",
		User: specs.User{UID: 0, GID: 0},
		Capabilities: &specs.LinuxCapabilities{
			Bounding:  caps(),
			Permitted: caps(),
			Effective: caps(),
		},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		NoNewPrivileges: true,
	}
}

func defaultNamespaces() []specs.LinuxNamespace {
	return []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
		{Type: specs.NetworkNamespace},
	}
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}
