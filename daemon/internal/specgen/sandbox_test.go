package specgen

import (
	"maps"
	"slices"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestSandboxSpecIsContainerdsPauseSpec(t *testing.T) {
	sb := testPod()
	sb.Annotations = map[string]string{"example.com/pass": "yes", "other": "no"}
	sb.Linux.Resources = &runtimeapi.LinuxContainerResources{CpuPeriod: 100000, CpuQuota: 20000, CpuShares: 205, MemoryLimitInBytes: 1 << 20}
	sb.Linux.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 65535}
	sb.Linux.SecurityContext.RunAsGroup = &runtimeapi.Int64Value{Value: 65534}
	sb.Linux.SecurityContext.SupplementalGroups = []int64{5}
	sb.Linux.SecurityContext.Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	s, err := SandboxSpec(sb, SandboxOptions{
		ID: "sb1", Args: []string{"/pause"}, ImageEnv: []string{"PATH=/bin", "X=1"}, ImageName: "registry.k8s.io/pause:3.10",
		ShmPath: "/run/runlet/sb1/shm", ResolvPath: "/run/runlet/sb1/resolv.conf", OCIVersion: "1.0.0",
		PodAnnotations: []string{"example.com/*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Process.Args, []string{"/pause"}) || !slices.Equal(s.Process.Env, []string{"PATH=/bin", "X=1"}) || s.Version != "1.0.0" {
		t.Errorf("args %q env %q version %q", s.Process.Args, s.Process.Env, s.Version)
	}
	if !s.Root.Readonly || !s.Process.NoNewPrivileges || s.Hostname != "web-0" {
		t.Errorf("readonly %v no_new_privs %v hostname %q", s.Root.Readonly, s.Process.NoNewPrivileges, s.Hostname)
	}
	if u := s.Process.User; u.UID != 65535 || u.GID != 65534 || !slices.Equal(u.AdditionalGids, []uint32{5, 65534}) {
		t.Errorf("user %+v", u)
	}
	if *s.Process.OOMScoreAdj != -998 || *s.Linux.Resources.CPU.Shares != 2 {
		t.Errorf("oom %d shares %d", *s.Process.OOMScoreAdj, *s.Linux.Resources.CPU.Shares)
	}
	if s.Linux.CgroupsPath != "/kubepods/besteffort/podpod-uid/runlet-sb1" {
		t.Errorf("cgroupsPath %q", s.Linux.CgroupsPath)
	}
	if s.Linux.Seccomp == nil || !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") {
		t.Errorf("seccomp %v masked %q", s.Linux.Seccomp != nil, s.Linux.MaskedPaths)
	}
	for dst, src := range map[string]string{"/dev/shm": "/run/runlet/sb1/shm", "/etc/resolv.conf": "/run/runlet/sb1/resolv.conf"} {
		m, _ := mountAt(s, dst)
		if m.Source != src || m.Type != "bind" || !slices.Equal(m.Options, []string{"rbind", "ro", "nosuid", "nodev", "noexec"}) {
			t.Errorf("%s = %+v", dst, m)
		}
	}
	want := map[string]string{
		"example.com/pass":                        "yes",
		"io.kubernetes.cri.container-type":        "sandbox",
		"io.kubernetes.cri.sandbox-id":            "sb1",
		"io.kubernetes.cri.sandbox-name":          "web",
		"io.kubernetes.cri.sandbox-namespace":     "prod",
		"io.kubernetes.cri.sandbox-uid":           "pod-uid",
		"io.kubernetes.cri.sandbox-log-directory": "/var/log/pods/prod_web_pod-uid",
		"io.kubernetes.cri.podsandbox.image-name": "registry.k8s.io/pause:3.10",
		"io.kubernetes.cri.sandbox-cpu-period":    "100000",
		"io.kubernetes.cri.sandbox-cpu-quota":     "20000",
		"io.kubernetes.cri.sandbox-cpu-shares":    "205",
		"io.kubernetes.cri.sandbox-memory":        "1048576",
	}
	if !maps.Equal(s.Annotations, want) {
		t.Errorf("annotations\n%v\nwant\n%v", s.Annotations, want)
	}
}

func TestSandboxHostIPCUsesHostShmAndDefaultsWithoutFiles(t *testing.T) {
	sb := testPod()
	sb.Linux.SecurityContext.NamespaceOptions.Ipc = runtimeapi.NamespaceMode_NODE
	s, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}, ShmPath: "/sandbox/shm"})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := mountAt(s, "/dev/shm"); m.Source != "/dev/shm" || m.Type != "bind" {
		t.Errorf("/dev/shm = %+v, want the host's", m)
	}
	if _, ok := mountAt(s, "/etc/resolv.conf"); ok {
		t.Error("resolv.conf mounted without a ResolvPath")
	}
	s, _ = SandboxSpec(testPod(), SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
	if m, _ := mountAt(s, "/dev/shm"); m.Type != "tmpfs" {
		t.Errorf("/dev/shm without ShmPath = %+v, want a tmpfs", m)
	}
	if s.Linux.Seccomp != nil || s.Process.User.UID != 0 {
		t.Errorf("seccomp %v uid %d, want unconfined root", s.Linux.Seccomp != nil, s.Process.User.UID)
	}
}

func TestSandboxErrors(t *testing.T) {
	_, err := SandboxSpec(testPod(), SandboxOptions{ID: "sb1"})
	wantInvalid(t, err, "Args")
	_, err = SandboxSpec(nil, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
	wantInvalid(t, err, "config")
	sb := testPod()
	sb.Linux.SecurityContext.RunAsGroup = &runtimeapi.Int64Value{Value: 1}
	_, err = SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
	wantInvalid(t, err, "run_as_group")
}

func TestContainerAnnotationsAsContainerd(t *testing.T) {
	sb := testPod()
	sb.Annotations = map[string]string{"pod.example/a": "1", "pod.other/b": "2"}
	cfg := testContainer(nil)
	cfg.Annotations = map[string]string{"ctr.example/c": "3", "ctr.other/d": "4"}
	o := testOptions()
	o.PodAnnotations, o.ContainerAnnotations = []string{"pod.example/*"}, []string{"ctr.example/*"}
	s := mustContainerSpec(t, cfg, sb, o)
	want := map[string]string{
		"pod.example/a":                       "1",
		"ctr.example/c":                       "3",
		"io.kubernetes.cri.container-type":    "container",
		"io.kubernetes.cri.sandbox-id":        "sb1",
		"io.kubernetes.cri.sandbox-name":      "web",
		"io.kubernetes.cri.sandbox-namespace": "prod",
		"io.kubernetes.cri.sandbox-uid":       "pod-uid",
		"io.kubernetes.cri.container-name":    "app",
		"io.kubernetes.cri.image-name":        "docker.io/library/busybox:1",
	}
	if !maps.Equal(s.Annotations, want) {
		t.Errorf("annotations\n%v\nwant\n%v", s.Annotations, want)
	}
}

// runc mounts a read-only sysfs read-only at its superblock, which every
// sysfs of the pod's network namespace shares: a privileged pod's pause
// container keeps /sys writable so its privileged containers get it.
func TestPrivilegedSandboxKeepsSysfsWritable(t *testing.T) {
	for _, privileged := range []bool{false, true} {
		sb := testPod()
		sb.Linux.SecurityContext.Privileged = privileged
		s, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
		if err != nil {
			t.Fatal(err)
		}
		want := "ro"
		if privileged {
			want = "rw"
		}
		if m, _ := mountAt(s, "/sys"); !slices.Contains(m.Options, want) {
			t.Errorf("privileged %v: /sys options %q, want %s", privileged, m.Options, want)
		}
	}
}

func TestSandboxRunsAsThePauseImageUserUnlessRunAsUserIsSet(t *testing.T) {
	s, err := SandboxSpec(testPod(), SandboxOptions{ID: "sb1", Args: []string{"/pause"}, ImageUser: "65535:65535"})
	if err != nil || s.Process.User.UID != 65535 || s.Process.User.GID != 65535 {
		t.Fatalf("user %+v, %v", s.Process.User, err)
	}
	sb := testPod()
	sb.Linux.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 0}
	if s, _ := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}, ImageUser: "65535:65535"}); s.Process.User.UID != 0 || s.Process.User.GID != 0 {
		t.Fatalf("run_as_user 0: user %+v", s.Process.User)
	}
	_, err = SandboxSpec(testPod(), SandboxOptions{ID: "sb1", Args: []string{"/pause"}, ImageUser: "nobody"})
	wantInvalid(t, err, "nobody")
}
