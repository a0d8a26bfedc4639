package specgen

import (
	"strings"
	"unicode"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ipcSysctls are the IPC namespace's sysctls (prefixes end in "." or are
// exact names); net.* belongs to the network namespace.
var (
	ipcSysctlNames    = []string{"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.msgmax", "kernel.msgmni", "kernel.msgmnb", "kernel.sem"}
	ipcSysctlPrefixes = []string{"fs.mqueue."}
)

// sandboxSysctls validates the pod's sysctls, as kubelet does: only
// namespaced ones, net.* only with the pod's own network namespace and the
// IPC ones only with its own IPC namespace. Names may use "/" as kubelet
// allows. containerd 2's defaults for pods with their own network
// namespace are added unless the pod sets them or o turns them off.
func sandboxSysctls(cfg *runtimeapi.PodSandboxConfig, o SandboxOptions, userns bool) (map[string]string, error) {
	ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	out := map[string]string{}
	for name, value := range cfg.GetLinux().GetSysctls() {
		if err := checkSysctl(name, value, ns); err != nil {
			return nil, err
		}
		out[name] = value
	}
	if ns.GetNetwork() == runtimeapi.NamespaceMode_NODE {
		return out, nil
	}
	setDefault := func(name, value string) {
		if _, ok := out[name]; !ok {
			if _, ok := out[strings.ReplaceAll(name, ".", "/")]; !ok {
				out[name] = value
			}
		}
	}
	if !o.NoUnprivilegedPorts {
		setDefault("net.ipv4.ip_unprivileged_port_start", "0")
	}
	if !o.NoUnprivilegedICMP && !userns {
		setDefault("net.ipv4.ping_group_range", "0 2147483647")
	}
	return out, nil
}

// checkSysctls checks every sysctl of a pod (name, value, namespace).
func checkSysctls(cfg *runtimeapi.PodSandboxConfig) error {
	ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	for name, value := range cfg.GetLinux().GetSysctls() {
		if err := checkSysctl(name, value, ns); err != nil {
			return err
		}
	}
	return nil
}

func checkSysctl(name, value string, ns *runtimeapi.NamespaceOption) error {
	const field = "linux.sysctls"
	if !wellFormedSysctl(name) {
		return invalidf(field, "%q is not a sysctl name", name)
	}
	// A newline would let one value set a second sysctl through a runtime
	// that writes "name=value" lines, and no sysctl takes control
	// characters: refused, tab included (separate fields with spaces).
	if strings.ContainsFunc(value, unicode.IsControl) {
		return invalidf(field, "the value of %q holds a control character: %q", name, value)
	}
	n := normalizeSysctl(name)
	switch {
	case strings.HasPrefix(n, "net."):
		if ns.GetNetwork() == runtimeapi.NamespaceMode_NODE {
			return invalidf(field, "%q is not allowed with the host network", name)
		}
	case isIPCSysctl(n):
		if ns.GetIpc() == runtimeapi.NamespaceMode_NODE {
			return invalidf(field, "%q is not allowed with the host IPC namespace", name)
		}
	default:
		return invalidf(field, "%q is not a namespaced sysctl (allowed: net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)", name)
	}
	return nil
}

// normalizeSysctl turns kubelet's slash form (net/ipv4/conf/eth0.100/x)
// into the dotted form; a dotted name is kept.
func normalizeSysctl(name string) string {
	if !strings.Contains(name, "/") {
		return name
	}
	return strings.ReplaceAll(name, "/", ".")
}

func isIPCSysctl(n string) bool {
	for _, s := range ipcSysctlNames {
		if n == s {
			return true
		}
	}
	for _, p := range ipcSysctlPrefixes {
		if strings.HasPrefix(n, p) && len(n) > len(p) {
			return true
		}
	}
	return false
}

// wellFormedSysctl refuses names the runtime would turn into odd paths
// under /proc/sys: empty elements (which ".." and "//" produce), spaces
// and control characters (C0, DEL and C1).
func wellFormedSysctl(name string) bool {
	for _, part := range strings.Split(strings.ReplaceAll(name, "/", "."), ".") {
		if part == "" || strings.ContainsFunc(part, func(r rune) bool { return r <= ' ' || unicode.IsControl(r) }) {
			return false
		}
	}
	return true
}
