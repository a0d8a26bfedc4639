package runtime

import (
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// hostilePod is a pod config with the given sysctls and user namespace.
func (f *fixture) hostilePod(name string, sysctls map[string]string, userns *runtimeapi.UserNamespace) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "it", Uid: randomHex(8)},
		Hostname:     name,
		LogDirectory: filepath.Join(f.Dir, "logs", name),
		Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: f.cgroup, Sysctls: sysctls, SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}},
	}
}

func TestSysctlsWithANewlineOrControlCharacterAreInvalidArgumentAndLeaveNothing(t *testing.T) {
	f := start(t)
	for i, sysctls := range []map[string]string{
		{"net.ipv4.ip_unprivileged_port_start": "0\nkernel.core_pattern=|/bin/evil"},
		{"net.ipv4.ping_group_range": "0\t1"},
		{"net.ipv4.ip_forward": "1\x00"},
		{"net.ipv4.ip_forward\n": "1"},
	} {
		cfg := f.hostilePod("sysctl"+itoa(i), sysctls, nil)
		_, err := f.Runtime.RunPodSandbox(daemontest.Ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("sysctls %q: %v, want InvalidArgument", sysctls, err)
		}
	}
	f.assertNothingLeft(t)
}

func TestAUserNamespaceMappingHostRootIntoAPodIsInvalidArgument(t *testing.T) {
	f := start(t)
	hostRoot := []*runtimeapi.IDMapping{{ContainerId: 0, HostId: 0, Length: 65536}}
	safe := []*runtimeapi.IDMapping{{ContainerId: 0, HostId: 1 << 20, Length: 65536}}
	for name, userns := range map[string]*runtimeapi.UserNamespace{
		"uidroot": {Mode: runtimeapi.NamespaceMode_POD, Uids: hostRoot, Gids: safe},
		"gidroot": {Mode: runtimeapi.NamespaceMode_POD, Uids: safe, Gids: hostRoot},
	} {
		_, err := f.Runtime.RunPodSandbox(daemontest.Ctx(t), &runtimeapi.RunPodSandboxRequest{Config: f.hostilePod(name, nil, userns)})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("%s: %v, want InvalidArgument", name, err)
		}
	}
	f.assertNothingLeft(t)
}
