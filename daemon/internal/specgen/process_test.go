package specgen

import (
	"slices"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestProcessArgsFollowDockerOverrideRules(t *testing.T) {
	img := ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default-arg"}}
	for _, tc := range []struct {
		name          string
		command, args []string
		image         ImageConfig
		want          []string
	}{
		{"image only", nil, nil, img, []string{"/entry", "default-arg"}},
		{"args replace cmd", nil, []string{"a"}, img, []string{"/entry", "a"}},
		{"command drops entrypoint and cmd", []string{"/bin/sh"}, nil, img, []string{"/bin/sh"}},
		{"command and args", []string{"/bin/sh"}, []string{"-c", "x"}, img, []string{"/bin/sh", "-c", "x"}},
		{"empty-string entrypoint means none", nil, nil, ImageConfig{Entrypoint: []string{""}, Cmd: []string{"/cmd"}}, []string{"/cmd"}},
		{"cmd only image", nil, nil, ImageConfig{Cmd: []string{"/cmd", "x"}}, []string{"/cmd", "x"}},
		{"args without image", nil, []string{"/bin/true"}, ImageConfig{}, []string{"/bin/true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &runtimeapi.ContainerConfig{Command: tc.command, Args: tc.args}
			got, err := processArgs(cfg, tc.image)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("processArgs = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNoCommandAtAllIsInvalid(t *testing.T) {
	cfg := testContainer(nil)
	cfg.Command = nil
	_, err := ContainerSpec(cfg, testPod(), testOptions())
	wantInvalid(t, err, "command")
}

func TestEnvIsPathHostnameImageThenCRIOverridingByKey(t *testing.T) {
	cfg := testContainer(nil)
	cfg.Envs = []*runtimeapi.KeyValue{{Key: "A", Value: []byte("cri")}, {Key: "C", Value: []byte("3")}}
	o := testOptions()
	o.Image.Env = []string{"PATH=/image/bin", "A=image", "B=image"}
	s := mustContainerSpec(t, cfg, testPod(), o)
	want := []string{"PATH=/image/bin", "HOSTNAME=web-0", "A=cri", "B=image", "C=3"}
	if !slices.Equal(s.Process.Env, want) {
		t.Fatalf("env = %q, want %q", s.Process.Env, want)
	}
}

func TestHostnameEnvFallsBackToNodeHostnameWithHostNetwork(t *testing.T) {
	sb := testPod()
	sb.Hostname = ""
	s := mustContainerSpec(t, testContainer(nil), sb, testOptions())
	if !slices.Contains(s.Process.Env, "HOSTNAME=node-1") {
		t.Fatalf("env = %q, want HOSTNAME=node-1", s.Process.Env)
	}
}

func TestInvalidEnvKeyIsRefused(t *testing.T) {
	cfg := testContainer(nil)
	cfg.Envs = []*runtimeapi.KeyValue{{Key: "A=B", Value: []byte("x")}}
	_, err := ContainerSpec(cfg, testPod(), testOptions())
	wantInvalid(t, err, "envs")
}

func TestWorkingDirIsCRIThenImageThenRoot(t *testing.T) {
	for _, tc := range []struct{ cri, image, want string }{
		{"/cri", "/image", "/cri"},
		{"", "/image", "/image"},
		{"", "", "/"},
		{"/a/../b/", "", "/b"},
	} {
		cfg := testContainer(nil)
		cfg.WorkingDir = tc.cri
		o := testOptions()
		o.Image.WorkingDir = tc.image
		if got := mustContainerSpec(t, cfg, testPod(), o).Process.Cwd; got != tc.want {
			t.Errorf("cri %q image %q: cwd %q, want %q", tc.cri, tc.image, got, tc.want)
		}
	}
	cfg := testContainer(nil)
	cfg.WorkingDir = "relative"
	_, err := ContainerSpec(cfg, testPod(), testOptions())
	wantInvalid(t, err, "working_dir")
}

func TestTtyAndOCIVersion(t *testing.T) {
	cfg := testContainer(nil)
	cfg.Tty = true
	o := testOptions()
	o.OCIVersion = "1.0.2-dev"
	s := mustContainerSpec(t, cfg, testPod(), o)
	if !s.Process.Terminal || s.Version != "1.0.2-dev" {
		t.Fatalf("terminal %v version %q", s.Process.Terminal, s.Version)
	}
	if s := mustContainerSpec(t, testContainer(nil), testPod(), testOptions()); s.Version != "1.0.2" || s.Root.Path != "rootfs" {
		t.Fatalf("default version %q root %q", s.Version, s.Root.Path)
	}
}
