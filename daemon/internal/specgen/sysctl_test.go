package specgen

import (
	"maps"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func sandboxWithSysctls(sysctls map[string]string, ns *runtimeapi.NamespaceOption) (map[string]string, error) {
	sb := testPod()
	sb.Linux.Sysctls = sysctls
	sb.Linux.SecurityContext.NamespaceOptions = ns
	s, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}, NoUnprivilegedPorts: true, NoUnprivilegedICMP: true})
	if err != nil {
		return nil, err
	}
	return s.Linux.Sysctl, nil
}

func TestNamespacedSysctlsAreAccepted(t *testing.T) {
	in := map[string]string{
		"net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.100/rp_filter": "0",
		"kernel.shmmax": "1", "kernel.shm_rmid_forced": "1", "kernel.msgmax": "1", "kernel.sem": "1 2 3 4",
		"fs.mqueue.msg_max": "10",
	}
	got, err := sandboxWithSysctls(in, &runtimeapi.NamespaceOption{})
	if err != nil || !maps.Equal(got, in) {
		t.Fatalf("sysctls %v, %v; want %v", got, err, in)
	}
}

func TestSysctlsOutsideThePodsNamespacesAreInvalid(t *testing.T) {
	hostNet := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}
	hostIPC := &runtimeapi.NamespaceOption{Ipc: runtimeapi.NamespaceMode_NODE}
	for _, tc := range []struct {
		name string
		ns   *runtimeapi.NamespaceOption
	}{
		{"kernel.panic", &runtimeapi.NamespaceOption{}},
		{"vm.swappiness", &runtimeapi.NamespaceOption{}},
		{"kernel.hostname", &runtimeapi.NamespaceOption{}},
		{"fs.mqueue.", &runtimeapi.NamespaceOption{}},
		{"kernel.shmfoo", &runtimeapi.NamespaceOption{}},
		{"net.core.somaxconn", hostNet},
		{"kernel.shmmax", hostIPC},
		{"fs.mqueue.msg_max", hostIPC},
		{"net.ipv4/../../../kernel/core_pattern", &runtimeapi.NamespaceOption{}},
		{"net..ipv4.ip_forward", &runtimeapi.NamespaceOption{}},
		{"net.ipv4.ip_forward.", &runtimeapi.NamespaceOption{}},
		{"net.ipv4.ip forward", &runtimeapi.NamespaceOption{}},
	} {
		_, err := sandboxWithSysctls(map[string]string{tc.name: "1"}, tc.ns)
		wantInvalid(t, err, "linux.sysctls")
	}
}

func TestSysctlsWithControlCharactersAreInvalid(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"net.ipv4.ip_unprivileged_port_start", "0\nkernel.core_pattern=|/bin/evil"},
		{"net.ipv4.ip_unprivileged_port_start", "0\r"},
		{"net.ipv4.ping_group_range", "0\t1"},
		{"net.ipv4.ip_forward", "1\x00"},
		{"net.ipv4.ip_forward", "1\x7f"},
		{"net.ipv4.ip_forward", "1\u0085"},
		{"net.ipv4.ip_forward\n", "1"},
		{"net.ipv4.ip_for\u0085ward", "1"},
	} {
		sb := testPod()
		sb.Linux.Sysctls = map[string]string{tc.name: tc.value}
		wantInvalid(t, CheckSandbox(sb), "linux.sysctls")
		_, err := sandboxWithSysctls(sb.Linux.Sysctls, &runtimeapi.NamespaceOption{})
		wantInvalid(t, err, "linux.sysctls")
	}
}

func TestUnprivilegedPortAndPingDefaultsAsContainerd2(t *testing.T) {
	sb := testPod()
	sb.Linux.Sysctls = map[string]string{"net.ipv4.ping_group_range": "1 1"}
	s, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "1 1"}
	if !maps.Equal(s.Linux.Sysctl, want) {
		t.Fatalf("sysctls %v, want %v", s.Linux.Sysctl, want)
	}
	sb.Linux.Sysctls = nil
	sb.Linux.SecurityContext.NamespaceOptions.Network = runtimeapi.NamespaceMode_NODE
	if s, _ = SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}}); len(s.Linux.Sysctl) != 0 {
		t.Fatalf("host network sysctls %v, want none", s.Linux.Sysctl)
	}
}
