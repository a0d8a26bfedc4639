package specgen

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func allowed(p *specs.LinuxSeccomp, name string) bool {
	for _, s := range p.Syscalls {
		if s.Action == specs.ActAllow && len(s.Args) == 0 && slices.Contains(s.Names, name) {
			return true
		}
	}
	return false
}

func ruleFor(p *specs.LinuxSeccomp, name string) (specs.LinuxSyscall, bool) {
	for _, s := range p.Syscalls {
		if slices.Contains(s.Names, name) {
			return s, true
		}
	}
	return specs.LinuxSyscall{}, false
}

func TestSeccompProfileChoices(t *testing.T) {
	root := t.TempDir()
	custom := filepath.Join(root, "custom.json")
	os.WriteFile(custom, []byte(`{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	for _, tc := range []struct {
		name       string
		sp         *runtimeapi.SecurityProfile
		deprecated string
		want       specs.LinuxSeccompAction // "" = no profile
	}{
		{"none means unconfined", nil, "", ""},
		{"unconfined", &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, "", ""},
		{"runtime default", &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, "", specs.ActErrno},
		{"localhost", &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: custom}, "", specs.ActLog},
		{"deprecated runtime/default", nil, "runtime/default", specs.ActErrno},
		{"deprecated docker/default", nil, "docker/default", specs.ActErrno},
		{"deprecated localhost", nil, "localhost/" + custom, specs.ActLog},
		{"deprecated unconfined", nil, "unconfined", ""},
		{"field wins over deprecated", &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, "runtime/default", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.SeccompProfileRoot = root
			sc := &runtimeapi.LinuxContainerSecurityContext{Seccomp: tc.sp, SeccompProfilePath: tc.deprecated}
			s := mustContainerSpec(t, testContainer(sc), testPod(), o)
			got := specs.LinuxSeccompAction("")
			if s.Linux.Seccomp != nil {
				got = s.Linux.Seccomp.DefaultAction
			}
			if got != tc.want {
				t.Fatalf("default action %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSeccompLocalhostValidation(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	good := filepath.Join(outside, "p.json")
	os.WriteFile(good, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644)
	os.Symlink(good, filepath.Join(root, "escape.json"))
	os.WriteFile(filepath.Join(root, "bad.json"), []byte(`not json`), 0o644)
	os.WriteFile(filepath.Join(root, "empty.json"), []byte(`{}`), 0o644)
	for name, ref := range map[string]string{
		"relative":          "p.json",
		"outside the root":  good,
		"symlink out":       filepath.Join(root, "escape.json"),
		"dot-dot out":       filepath.Join(root, "..", filepath.Base(outside), "p.json"),
		"missing":           filepath.Join(root, "none.json"),
		"not json":          filepath.Join(root, "bad.json"),
		"no default action": filepath.Join(root, "empty.json"),
	} {
		t.Run(name, func(t *testing.T) {
			o := testOptions()
			o.SeccompProfileRoot = root
			sc := &runtimeapi.LinuxContainerSecurityContext{Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: ref}}
			_, err := ContainerSpec(testContainer(sc), testPod(), o)
			wantInvalid(t, err, "localhost_ref")
		})
	}
	for _, sp := range []*runtimeapi.SecurityProfile{
		{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault, LocalhostRef: "/x"},
		{ProfileType: 42},
	} {
		_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{Seccomp: sp}), testPod(), testOptions())
		wantInvalid(t, err, "seccomp")
	}
	_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{SeccompProfilePath: "bogus"}), testPod(), testOptions())
	wantInvalid(t, err, "seccomp_profile_path")
}

func TestDefaultSeccompDeniesDangerousSyscallsUnlessTheCapabilityIsGranted(t *testing.T) {
	p := defaultSeccomp(defaultCaps)
	if p.DefaultAction != specs.ActErrno {
		t.Fatalf("default action %q, want an allowlist", p.DefaultAction)
	}
	for _, name := range []string{"read", "write", "execve", "openat", "clock_gettime", "chroot", "ptrace"} {
		if !allowed(p, name) {
			t.Errorf("%s denied by default", name)
		}
	}
	for _, name := range []string{"mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key", "reboot", "kexec_load", "init_module", "bpf", "swapon", "pivot_root", "io_uring_setup", "open_by_handle_at", "clock_settime"} {
		if _, ok := ruleFor(p, name); ok {
			t.Errorf("%s allowed by the default profile", name)
		}
	}
	if r, _ := ruleFor(p, "clone"); len(r.Args) != 1 || r.Args[0].Op != specs.OpMaskedEqual || r.Args[0].Value != namespaceCloneFlags {
		t.Errorf("clone rule %+v, want namespace flags refused", r)
	}
	if r, _ := ruleFor(p, "clone3"); r.Action != specs.ActErrno || r.ErrnoRet == nil || *r.ErrnoRet != errnoENOSYS {
		t.Errorf("clone3 rule %+v, want ENOSYS", r)
	}
	admin := defaultSeccomp(append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN", "CAP_SYS_TIME"))
	for _, name := range []string{"mount", "unshare", "setns", "clone", "clone3", "clock_settime"} {
		if !allowed(admin, name) {
			t.Errorf("%s denied with its capability", name)
		}
	}
	if _, ok := ruleFor(admin, "keyctl"); ok {
		t.Error("keyctl allowed even with CAP_SYS_ADMIN")
	}
}

func TestSeccompFollowsTheContainersCapabilitiesAndPrivilege(t *testing.T) {
	sc := &runtimeapi.LinuxContainerSecurityContext{
		Seccomp:      &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
		Capabilities: &runtimeapi.Capability{AddCapabilities: []string{"SYS_ADMIN"}},
	}
	s := mustContainerSpec(t, testContainer(sc), testPod(), testOptions())
	if !allowed(s.Linux.Seccomp, "mount") {
		t.Error("mount denied despite CAP_SYS_ADMIN")
	}
	sc.Privileged = true
	if s := mustContainerSpec(t, testContainer(sc), privilegedPod(), testOptions()); s.Linux.Seccomp != nil {
		t.Error("privileged container has a seccomp profile")
	}
}
