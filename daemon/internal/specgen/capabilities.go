package specgen

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// knownCapabilities are the Linux capabilities by number (CAP_LAST_CAP is
// 40 on the kernels runlet supports).
var knownCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capabilitySet is a set of capabilities in spec order.
type capabilitySet []string

func (s capabilitySet) add(names ...string) capabilitySet {
	for _, n := range names {
		if !slices.Contains(s, n) {
			s = append(s, n)
		}
	}
	return s
}

func (s capabilitySet) drop(names ...string) capabilitySet {
	return slices.DeleteFunc(s, func(n string) bool { return slices.Contains(names, n) })
}

// normalizeCapabilities turns CRI names ("chown", "CAP_CHOWN", "ALL") into
// spec names; all reports an "ALL" among them. Unknown names are invalid.
func normalizeCapabilities(field string, in []string) (names []string, all bool, err error) {
	for _, c := range in {
		u := strings.ToUpper(strings.TrimSpace(c))
		if u == "ALL" {
			all = true
			continue
		}
		if !strings.HasPrefix(u, "CAP_") {
			u = "CAP_" + u
		}
		if !slices.Contains(knownCapabilities, u) {
			return nil, false, invalidf(field, "unknown capability %q", c)
		}
		names = append(names, u)
	}
	return names, all, nil
}

// containerCapabilities applies the CRI capability request to the default
// set as containerd does, in this order: add ALL, drop ALL, add the named,
// drop the named. Added capabilities go to the bounding, permitted and
// effective sets; the inheritable set stays empty (containerd's fix for
// CVE-2022-24769) except for add_ambient_capabilities, which are added to
// every set including inheritable and ambient, as the CRI describes.
// available is the set "ALL" stands for: the capabilities runletd itself
// holds, since a runtime cannot grant more.
func containerCapabilities(c *runtimeapi.Capability, defaults, available []string) (*specs.LinuxCapabilities, error) {
	const field = "linux.security_context.capabilities."
	add, addAll, err := normalizeCapabilities(field+"add_capabilities", c.GetAddCapabilities())
	if err != nil {
		return nil, err
	}
	drop, dropAll, err := normalizeCapabilities(field+"drop_capabilities", c.GetDropCapabilities())
	if err != nil {
		return nil, err
	}
	ambient, ambientAll, err := normalizeCapabilities(field+"add_ambient_capabilities", c.GetAddAmbientCapabilities())
	if err != nil {
		return nil, err
	}
	if ambientAll {
		return nil, invalidf(field+"add_ambient_capabilities", "ALL is not allowed")
	}
	set := capabilitySet(slices.Clone(defaults))
	if addAll {
		set = set.add(available...)
	}
	if dropAll {
		set = nil
	}
	set = set.add(add...).add(ambient...).drop(drop...)
	ambientSet := capabilitySet(nil).add(ambient...).drop(drop...)
	return &specs.LinuxCapabilities{
		Bounding:    slices.Clone(set),
		Permitted:   slices.Clone(set),
		Effective:   slices.Clone(set),
		Inheritable: slices.Clone(ambientSet),
		Ambient:     slices.Clone(ambientSet),
	}, nil
}

// allCapabilities gives every set the available capabilities, for
// privileged containers; inheritable and ambient stay empty.
func allCapabilities(available []string) *specs.LinuxCapabilities {
	return &specs.LinuxCapabilities{
		Bounding:  slices.Clone(available),
		Permitted: slices.Clone(available),
		Effective: slices.Clone(available),
	}
}
