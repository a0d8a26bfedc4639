package cdi

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestDevicesComeFromTheConfigThenTheAnnotationsEachOnce(t *testing.T) {
	cfg := &runtimeapi.ContainerConfig{
		CDIDevices: []*runtimeapi.CDIDevice{{Name: "vendor.com/dev=a"}, {Name: "vendor.com/dev=b"}, {Name: "vendor.com/dev=a"}},
		Annotations: map[string]string{
			"cdi.k8s.io/z":  "vendor.com/dev=c",
			"cdi.k8s.io/y":  "vendor.com/dev=b,vendor.com/dev=d",
			"other.io/skip": "vendor.com/dev=e",
		},
	}
	got, err := Devices(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"vendor.com/dev=a", "vendor.com/dev=b", "vendor.com/dev=d", "vendor.com/dev=c"}
	if !slices.Equal(got, want) {
		t.Fatalf("devices = %v, want %v", got, want)
	}
}

func TestAnUnqualifiedDeviceNameIsInvalidArgument(t *testing.T) {
	for _, cfg := range []*runtimeapi.ContainerConfig{
		{CDIDevices: []*runtimeapi.CDIDevice{{Name: "gpu0"}}},
		{Annotations: map[string]string{"cdi.k8s.io/x": "vendor.com/dev=a,gpu0"}},
	} {
		_, err := Devices(cfg)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), `"gpu0"`) {
			t.Fatalf("err = %v, want InvalidArgument naming gpu0", err)
		}
	}
}

const testSpec = `cdiVersion: "0.6.0"
kind: vendor.com/dev
devices:
- name: one
  containerEdits:
    env: ["ONE=1"]
    deviceNodes:
    - path: /dev/cdi-one
      type: c
      major: 1
      minor: 3
containerEdits:
  env: ["VENDOR=yes"]
  mounts:
  - hostPath: /etc
    containerPath: /vendor-etc
    options: [ro, bind]
`

func newSpec() *specs.Spec {
	return &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{Resources: &specs.LinuxResources{}}}
}

func TestInjectAddsTheDeviceNodeItsCgroupRuleEnvAndMounts(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vendor.yaml"), []byte(testSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := New([]string{filepath.Join(t.TempDir(), "absent"), dir})
	if err != nil {
		t.Fatal(err)
	}
	s := newSpec()
	if err := in.InjectDevices(s, []string{"vendor.com/dev=one"}); err != nil {
		t.Fatal(err)
	}
	if len(s.Linux.Devices) != 1 || s.Linux.Devices[0].Path != "/dev/cdi-one" || s.Linux.Devices[0].Major != 1 || s.Linux.Devices[0].Minor != 3 {
		t.Fatalf("devices = %+v", s.Linux.Devices)
	}
	if r := s.Linux.Resources.Devices; len(r) != 1 || !r[0].Allow || *r[0].Major != 1 || *r[0].Minor != 3 {
		t.Fatalf("device cgroup rules = %+v", r)
	}
	if !slices.Contains(s.Process.Env, "ONE=1") || !slices.Contains(s.Process.Env, "VENDOR=yes") {
		t.Fatalf("env = %v", s.Process.Env)
	}
	if len(s.Mounts) != 1 || s.Mounts[0].Destination != "/vendor-etc" {
		t.Fatalf("mounts = %+v", s.Mounts)
	}
}

func TestAnUnknownDeviceIsInvalidArgumentNamingItAndLeavesTheSpecAlone(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vendor.yaml"), []byte(testSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := New([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	s := newSpec()
	err = in.InjectDevices(s, []string{"vendor.com/dev=one", "vendor.com/dev=two"})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "vendor.com/dev=two") || strings.Contains(err.Error(), "dev=one,") {
		t.Fatalf("err = %v, want InvalidArgument naming vendor.com/dev=two", err)
	}
	if len(s.Linux.Devices) != 0 || len(s.Process.Env) != 0 || len(s.Mounts) != 0 {
		t.Fatalf("spec changed: %+v", s)
	}
}

func TestASpecWrittenAfterNewIsSeen(t *testing.T) {
	dir := t.TempDir()
	in, err := New([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.InjectDevices(newSpec(), []string{"vendor.com/dev=one"}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("before the spec: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vendor.yaml"), []byte(testSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := in.InjectDevices(newSpec(), []string{"vendor.com/dev=one"}); err != nil {
		t.Fatalf("after the spec: %v", err)
	}
}
