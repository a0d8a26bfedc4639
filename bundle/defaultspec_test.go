package bundle

import (
	"encoding/json"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefaultSpecDescribesAPlainLinuxContainer(t *testing.T) {
	s := DefaultSpec("c1", "rootfs", []string{"echo", "hello"})
	if s.Version != DefaultOCIVersion || s.Root.Path != "rootfs" || s.Linux.CgroupsPath != "/runlet/c1" {
		t.Errorf("version %q root %q cgroup %q", s.Version, s.Root.Path, s.Linux.CgroupsPath)
	}
	if !slices.Equal(s.Process.Args, []string{"echo", "hello"}) || s.Process.Cwd != "/" || !s.Process.NoNewPrivileges {
		t.Errorf("process = %+v", s.Process)
	}
	var ns []specs.LinuxNamespaceType
	for _, n := range s.Linux.Namespaces {
		ns = append(ns, n.Type)
	}
	if want := []specs.LinuxNamespaceType{"pid", "ipc", "uts", "mount", "network"}; !slices.Equal(ns, want) {
		t.Errorf("namespaces %v, want %v", ns, want)
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	for _, want := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"} {
		if !slices.Contains(dests, want) {
			t.Errorf("no mount at %s", want)
		}
	}
	if r := s.Process.Rlimits; len(r) != 1 || r[0] != (specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}) {
		t.Errorf("rlimits %+v", r)
	}
	c := s.Process.Capabilities
	if !slices.Contains(c.Bounding, "CAP_CHOWN") || slices.Contains(c.Bounding, "CAP_SYS_ADMIN") || !slices.Equal(c.Bounding, c.Effective) {
		t.Errorf("capabilities %+v", c)
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %v readonly %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatal(err)
	}
}

// Specs are mutated by callers; two specs must share no slice.
func TestDefaultSpecReturnsIndependentSpecs(t *testing.T) {
	args := []string{"sh"}
	a, b := DefaultSpec("a", "rootfs", args), DefaultSpec("b", "rootfs", args)
	a.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	a.Linux.MaskedPaths[0] = "/changed"
	a.Mounts[0].Options[0] = "changed"
	a.Process.Args[0] = "changed"
	if b.Process.Capabilities.Bounding[0] == "CAP_SYS_ADMIN" || b.Process.Capabilities.Effective[0] == "CAP_SYS_ADMIN" ||
		b.Linux.MaskedPaths[0] == "/changed" || b.Mounts[0].Options[0] == "changed" || args[0] != "sh" {
		t.Fatal("specs share state")
	}
}

func TestSetOCIVersionSetsSpecVersion(t *testing.T) {
	s := DefaultSpec("c", "rootfs", nil)
	SetOCIVersion(s, "1.0.0")
	if s.Version != "1.0.0" {
		t.Fatalf("version %q", s.Version)
	}
}
