package specgen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// testPod is a pod config like kubelet's for a plain pod.
func testPod() *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "prod", Uid: "pod-uid"},
		Hostname:     "web-0",
		LogDirectory: "/var/log/pods/prod_web_pod-uid",
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    "/kubepods/besteffort/podpod-uid",
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{}},
		},
	}
}

// testContainer is a container config like kubelet's, with sc as its
// security context (nil: an empty one).
func testContainer(sc *runtimeapi.LinuxContainerSecurityContext) *runtimeapi.ContainerConfig {
	if sc == nil {
		sc = &runtimeapi.LinuxContainerSecurityContext{}
	}
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image:    &runtimeapi.ImageSpec{Image: "docker.io/library/busybox:1"},
		Command:  []string{"/bin/sh"},
		Linux:    &runtimeapi.LinuxContainerConfig{SecurityContext: sc},
	}
}

func testOptions() ContainerOptions {
	return ContainerOptions{ID: "ctr1", SandboxID: "sb1", SandboxPid: 4242, Hostname: "node-1"}
}

func mustContainerSpec(t *testing.T, cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, o ContainerOptions) *specs.Spec {
	t.Helper()
	s, err := ContainerSpec(cfg, sb, o)
	if err != nil {
		t.Fatalf("ContainerSpec: %v", err)
	}
	return s
}

// wantInvalid fails unless err is errdefs.ErrInvalidArgument naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	wantClass(t, err, errdefs.ErrInvalidArgument, field)
}

func wantClass(t *testing.T, err, class error, field string) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("err = %v, want %v", err, class)
	}
	if field != "" && !strings.Contains(err.Error(), field) {
		t.Fatalf("err = %q, want it to name %q", err, field)
	}
}

func namespaceOf(s *specs.Spec, t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns, true
		}
	}
	return specs.LinuxNamespace{}, false
}

func mountAt(s *specs.Spec, dst string) (specs.Mount, bool) {
	for _, m := range s.Mounts {
		if m.Destination == dst {
			return m, true
		}
	}
	return specs.Mount{}, false
}

// writeFile creates dir/name with some content and returns its path.
func writeFile(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
