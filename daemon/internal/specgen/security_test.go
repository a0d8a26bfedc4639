package specgen

import (
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func privilegedPod() *runtimeapi.PodSandboxConfig {
	sb := testPod()
	sb.Linux.SecurityContext.Privileged = true
	return sb
}

func TestPrivilegedContainerHasEverything(t *testing.T) {
	sc := &runtimeapi.LinuxContainerSecurityContext{
		Privileged:   true,
		Seccomp:      &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
		MaskedPaths:  []string{"/proc/kcore"},
		Capabilities: &runtimeapi.Capability{DropCapabilities: []string{"ALL"}},
	}
	s := mustContainerSpec(t, testContainer(sc), privilegedPod(), testOptions())
	available, _ := availableCapabilities()
	if !slices.Equal(s.Process.Capabilities.Bounding, available) || !slices.Equal(s.Process.Capabilities.Effective, available) {
		t.Errorf("capabilities %q, want all available %q", s.Process.Capabilities.Effective, available)
	}
	if len(s.Process.Capabilities.Inheritable) != 0 {
		t.Errorf("inheritable %q", s.Process.Capabilities.Inheritable)
	}
	if s.Linux.Seccomp != nil || len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("seccomp %v masked %q readonly %q, want none", s.Linux.Seccomp != nil, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	for _, dst := range []string{"/sys", "/sys/fs/cgroup"} {
		if m, _ := mountAt(s, dst); !slices.Contains(m.Options, "rw") || slices.Contains(m.Options, "ro") {
			t.Errorf("%s options %q, want rw", dst, m.Options)
		}
	}
	if !slices.ContainsFunc(s.Linux.Resources.Devices, func(d specs.LinuxDeviceCgroup) bool { return d.Allow && d.Access == "rwm" && d.Type == "" }) {
		t.Errorf("device cgroup %+v does not allow all", s.Linux.Resources.Devices)
	}
	if !slices.ContainsFunc(s.Linux.Devices, func(d specs.LinuxDevice) bool {
		return d.Path == "/dev/null" && d.Type == "c" && d.Major == 1 && d.Minor == 3
	}) {
		t.Errorf("host devices lack /dev/null: %d devices", len(s.Linux.Devices))
	}
	if slices.ContainsFunc(s.Linux.Devices, func(d specs.LinuxDevice) bool {
		return d.Path == "/dev/console" || len(d.Path) > 9 && d.Path[:9] == "/dev/pts/"
	}) {
		t.Errorf("host devices include console or pts")
	}
}

func TestPrivilegedContainerNeedsPrivilegedSandbox(t *testing.T) {
	_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{Privileged: true}), testPod(), testOptions())
	wantInvalid(t, err, "privileged")
}

func TestUnprivilegedContainerIsConfined(t *testing.T) {
	s := mustContainerSpec(t, testContainer(nil), testPod(), testOptions())
	if m, _ := mountAt(s, "/sys"); !slices.Contains(m.Options, "ro") {
		t.Errorf("/sys options %q, want ro", m.Options)
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %q readonly %q, want the defaults", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if d := s.Linux.Resources.Devices; len(d) != 1 || d[0].Allow {
		t.Errorf("device cgroup %+v, want deny all", d)
	}
	if _, ok := mountAt(s, "/run"); ok {
		t.Error("containerd's CRI mounts no /run tmpfs")
	}
	if s.Process.Rlimits != nil {
		t.Errorf("rlimits %+v, want the runtime's", s.Process.Rlimits)
	}
}

func TestMaskedAndReadonlyPathsFromCRI(t *testing.T) {
	userns := testPod()
	userns.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
	for _, tc := range []struct {
		name             string
		masked, readonly []string
		sb               *runtimeapi.PodSandboxConfig
		wantM, wantR     []string
	}{
		{"given", []string{"/proc/a"}, []string{"/proc/b"}, testPod(), []string{"/proc/a"}, []string{"/proc/b"}},
		{"empty means defaults", nil, nil, testPod(), defaultSpec().Linux.MaskedPaths, defaultSpec().Linux.ReadonlyPaths},
		{"empty in a user namespace means none (procMount Unmasked)", nil, nil, userns, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &runtimeapi.LinuxContainerSecurityContext{MaskedPaths: tc.masked, ReadonlyPaths: tc.readonly,
				NamespaceOptions: tc.sb.Linux.SecurityContext.NamespaceOptions}
			s := mustContainerSpec(t, testContainer(sc), tc.sb, testOptions())
			if !slices.Equal(s.Linux.MaskedPaths, tc.wantM) || !slices.Equal(s.Linux.ReadonlyPaths, tc.wantR) {
				t.Fatalf("masked %q readonly %q, want %q %q", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, tc.wantM, tc.wantR)
			}
		})
	}
}

func defaultSpec() *specs.Spec { return baseSpec("x", "", []string{"x"}, "") }

func TestReadonlyRootfsMakesSandboxFilesReadonlyButNotShm(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.HostsPath, o.ResolvPath, o.HostnamePath, o.ShmPath = writeFile(t, dir, "hosts"), writeFile(t, dir, "resolv"), writeFile(t, dir, "hostname"), dir
	for _, ro := range []bool{false, true} {
		s := mustContainerSpec(t, testContainer(&runtimeapi.LinuxContainerSecurityContext{ReadonlyRootfs: ro}), testPod(), o)
		if s.Root.Readonly != ro {
			t.Errorf("root readonly %v, want %v", s.Root.Readonly, ro)
		}
		want := "rw"
		if ro {
			want = "ro"
		}
		for _, dst := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"} {
			if m, ok := mountAt(s, dst); !ok || m.Type != "bind" || !slices.Contains(m.Options, want) {
				t.Errorf("readonly rootfs %v: %s = %+v, want a %s bind", ro, dst, m, want)
			}
		}
		if m, _ := mountAt(s, "/dev/shm"); m.Source != dir || !slices.Contains(m.Options, "rw") {
			t.Errorf("/dev/shm = %+v, want a rw bind of %s", m, dir)
		}
	}
}

func TestHostIPCContainerGetsHostShm(t *testing.T) {
	sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Ipc: runtimeapi.NamespaceMode_NODE}}
	o := testOptions()
	o.ShmPath = t.TempDir()
	s := mustContainerSpec(t, testContainer(sc), testPod(), o)
	if m, _ := mountAt(s, "/dev/shm"); m.Source != "/dev/shm" || m.Type != "bind" {
		t.Fatalf("/dev/shm = %+v, want the host's", m)
	}
}

func TestAppArmorOtherThanUnconfinedIsNotSupported(t *testing.T) {
	for _, sp := range []*runtimeapi.SecurityProfile{{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, {ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "p"}} {
		_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{Apparmor: sp}), testPod(), testOptions())
		wantClass(t, err, errdefs.ErrNotImplemented, "apparmor")
	}
	_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: "runtime/default"}), testPod(), testOptions())
	wantClass(t, err, errdefs.ErrNotImplemented, "apparmor")
	s := mustContainerSpec(t, testContainer(&runtimeapi.LinuxContainerSecurityContext{Apparmor: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}}), testPod(), testOptions())
	if s.Process.ApparmorProfile != "" {
		t.Fatalf("apparmor profile %q", s.Process.ApparmorProfile)
	}
}

func TestSELinuxOptionsAreIgnored(t *testing.T) {
	sc := &runtimeapi.LinuxContainerSecurityContext{SelinuxOptions: &runtimeapi.SELinuxOption{Type: "spc_t"}}
	s := mustContainerSpec(t, testContainer(sc), testPod(), testOptions())
	if s.Process.SelinuxLabel != "" || s.Linux.MountLabel != "" {
		t.Fatalf("labels %q %q on a host without SELinux", s.Process.SelinuxLabel, s.Linux.MountLabel)
	}
}

func TestMaskedAndReadonlyPathsMustBeCleanAndAbsolute(t *testing.T) {
	for _, sc := range []*runtimeapi.LinuxContainerSecurityContext{
		{MaskedPaths: []string{"proc/kcore"}},
		{ReadonlyPaths: []string{"/proc/../etc"}},
	} {
		_, err := ContainerSpec(testContainer(sc), testPod(), testOptions())
		wantInvalid(t, err, "_paths")
	}
}
