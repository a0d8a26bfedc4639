package specgen

import (
	"slices"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
)

var defaultCaps = bundle.DefaultSpec("x", "rootfs", nil).Process.Capabilities.Bounding

func TestCapabilitiesAddDropAndAll(t *testing.T) {
	available := []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"}
	for _, tc := range []struct {
		name      string
		add, drop []string
		want      []string
	}{
		{"none", nil, nil, defaultCaps},
		{"add without prefix, any case", []string{"sys_admin"}, nil, append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN")},
		{"add with prefix", []string{"CAP_NET_ADMIN"}, nil, append(slices.Clone(defaultCaps), "CAP_NET_ADMIN")},
		{"drop", nil, []string{"CHOWN", "cap_kill"}, without(defaultCaps, "CAP_CHOWN", "CAP_KILL")},
		{"drop ALL", nil, []string{"ALL"}, nil},
		{"drop ALL then add one", []string{"NET_BIND_SERVICE"}, []string{"ALL"}, []string{"CAP_NET_BIND_SERVICE"}},
		{"add ALL", []string{"ALL"}, nil, append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN", "CAP_NET_ADMIN")},
		{"add ALL drop one", []string{"ALL"}, []string{"SYS_ADMIN"}, append(slices.Clone(defaultCaps), "CAP_NET_ADMIN")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps, err := containerCapabilities(&runtimeapi.Capability{AddCapabilities: tc.add, DropCapabilities: tc.drop}, defaultCaps, available)
			if err != nil {
				t.Fatal(err)
			}
			for set, got := range map[string][]string{"bounding": caps.Bounding, "permitted": caps.Permitted, "effective": caps.Effective} {
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s = %q, want %q", set, got, tc.want)
				}
			}
			if len(caps.Inheritable) != 0 || len(caps.Ambient) != 0 {
				t.Errorf("inheritable %q ambient %q, want empty", caps.Inheritable, caps.Ambient)
			}
		})
	}
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func TestAmbientCapabilitiesGoToEverySet(t *testing.T) {
	caps, err := containerCapabilities(&runtimeapi.Capability{AddAmbientCapabilities: []string{"NET_ADMIN"}}, defaultCaps, nil)
	if err != nil {
		t.Fatal(err)
	}
	for set, got := range map[string][]string{"bounding": caps.Bounding, "permitted": caps.Permitted, "effective": caps.Effective, "inheritable": caps.Inheritable, "ambient": caps.Ambient} {
		if !slices.Contains(got, "CAP_NET_ADMIN") {
			t.Errorf("%s = %q lacks CAP_NET_ADMIN", set, got)
		}
	}
	if !slices.Equal(caps.Inheritable, []string{"CAP_NET_ADMIN"}) {
		t.Errorf("inheritable = %q, want only the ambient capability", caps.Inheritable)
	}
}

func TestUnknownCapabilityIsInvalid(t *testing.T) {
	for _, c := range []*runtimeapi.Capability{
		{AddCapabilities: []string{"SYS_WIZARD"}},
		{DropCapabilities: []string{"CAP_"}},
		{AddAmbientCapabilities: []string{"ALL"}},
	} {
		_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{Capabilities: c}), testPod(), testOptions())
		wantInvalid(t, err, "capabilities")
	}
}

// The default container keeps containerd's 14 capabilities, with the
// inheritable and ambient sets empty and no new privileges off.
func TestDefaultContainerCapabilities(t *testing.T) {
	s := mustContainerSpec(t, testContainer(nil), testPod(), testOptions())
	if len(defaultCaps) != 14 || !slices.Equal(s.Process.Capabilities.Effective, defaultCaps) {
		t.Fatalf("effective %q, want containerd's 14", s.Process.Capabilities.Effective)
	}
	if len(s.Process.Capabilities.Inheritable) != 0 || len(s.Process.Capabilities.Ambient) != 0 {
		t.Fatalf("inheritable %q ambient %q", s.Process.Capabilities.Inheritable, s.Process.Capabilities.Ambient)
	}
	if s.Process.NoNewPrivileges {
		t.Fatal("no_new_privs set without being asked for")
	}
	s = mustContainerSpec(t, testContainer(&runtimeapi.LinuxContainerSecurityContext{NoNewPrivs: true}), testPod(), testOptions())
	if !s.Process.NoNewPrivileges {
		t.Fatal("no_new_privs not set")
	}
}

func TestBoundingSetMaskNamesCapabilities(t *testing.T) {
	caps, err := availableCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(caps, "CAP_CHOWN") && len(caps) > 0 {
		t.Fatalf("available capabilities %q lack CAP_CHOWN", caps)
	}
	for _, c := range caps {
		if !slices.Contains(knownCapabilities, c) {
			t.Fatalf("unknown %q", c)
		}
	}
}
