package specgen

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/cdi"
)

const cdiTestSpec = `cdiVersion: "0.6.0"
kind: vendor.com/dev
devices:
- name: one
  containerEdits:
    env: ["PATH=/cdi/bin"]
    deviceNodes:
    - {path: /dev/cdi-one, type: c, major: 1, minor: 3}
    mounts:
    - {hostPath: /etc, containerPath: /etc/hosts, options: [ro, bind]}
`

func cdiInjector(t *testing.T) *cdi.Injector {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vendor.yaml"), []byte(cdiTestSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := cdi.New([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestCDIEditsWinOverTheSpecBuiltBeforeThem(t *testing.T) {
	cfg := testContainer(nil)
	cfg.CDIDevices = []*runtimeapi.CDIDevice{{Name: "vendor.com/dev=one"}}
	o := testOptions()
	o.HostsPath = "/var/lib/pod/hosts"
	o.CDI = cdiInjector(t)
	s := mustContainerSpec(t, cfg, testPod(), o)
	if !slices.Contains(s.Process.Env, "PATH=/cdi/bin") {
		t.Fatalf("env = %v", s.Process.Env)
	}
	var hosts []string
	for _, m := range s.Mounts {
		if m.Destination == "/etc/hosts" {
			hosts = append(hosts, m.Source)
		}
	}
	if !slices.Equal(hosts, []string{"/etc"}) {
		t.Fatalf("/etc/hosts mounts from %v, want only the CDI one", hosts)
	}
	found := false
	for _, d := range s.Linux.Devices {
		found = found || d.Path == "/dev/cdi-one" && d.Major == 1 && d.Minor == 3
	}
	if !found {
		t.Fatalf("devices = %+v", s.Linux.Devices)
	}
}

func TestAnUnknownCDIDeviceFailsTheSpec(t *testing.T) {
	cfg := testContainer(nil)
	cfg.Annotations = map[string]string{"cdi.k8s.io/x": "vendor.com/dev=nope"}
	o := testOptions()
	o.CDI = cdiInjector(t)
	_, err := ContainerSpec(cfg, testPod(), o)
	wantClass(t, err, errdefs.ErrInvalidArgument, "vendor.com/dev=nope")
}

func TestCDIBindMountsGetATypeAndThePodsMappingsInsteadOfIdmapOptions(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	newSpec := func() *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{UIDMappings: maps, GIDMappings: maps}, Mounts: []specs.Mount{
			{Destination: "/cdi", Source: "/host", Options: []string{"ro", "rbind", "ridmap"}},
			{Destination: "/etc/hosts", Type: "bind", Source: "/pod/hosts", Options: []string{"rbind"}},
		}}
	}
	s := newSpec()
	cdiBindMounts(s, true)
	m := s.Mounts[0]
	if m.Type != "bind" || !slices.Equal(m.Options, []string{"ro", "rbind"}) || !slices.Equal(m.UIDMappings, maps) || !slices.Equal(m.GIDMappings, maps) {
		t.Fatalf("with id-mapped mounts: %+v", m)
	}
	if s.Mounts[1].UIDMappings != nil {
		t.Fatalf("a mount without idmap options got mappings: %+v", s.Mounts[1])
	}
	s = newSpec()
	cdiBindMounts(s, false)
	if m := s.Mounts[0]; m.Type != "bind" || !slices.Equal(m.Options, []string{"ro", "rbind"}) || m.UIDMappings != nil {
		t.Fatalf("without id-mapped mounts: %+v", m)
	}
}
