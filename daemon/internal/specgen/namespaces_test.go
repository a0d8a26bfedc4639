package specgen

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// nsSummary renders namespaces as "type" (new) or "type=path" (joined).
func nsSummary(s *specs.Spec) []string {
	var out []string
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.CgroupNamespace {
			continue // depends on the host's cgroup mode, checked apart
		}
		entry := string(ns.Type)
		if ns.Path != "" {
			entry += "=" + ns.Path
		}
		out = append(out, entry)
	}
	slices.Sort(out)
	return out
}

func TestContainerNamespacesFollowNamespaceOptions(t *testing.T) {
	const (
		POD, CONTAINER, NODE, TARGET = runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_TARGET
	)
	for _, tc := range []struct {
		name          string
		net, pid, ipc runtimeapi.NamespaceMode
		want          []string
	}{
		{"kubelet default", POD, CONTAINER, POD, []string{"ipc=/proc/4242/ns/ipc", "mount", "network=/proc/4242/ns/net", "pid", "uts=/proc/4242/ns/uts"}},
		{"shared pid", POD, POD, POD, []string{"ipc=/proc/4242/ns/ipc", "mount", "network=/proc/4242/ns/net", "pid=/proc/4242/ns/pid", "uts=/proc/4242/ns/uts"}},
		{"target pid", POD, TARGET, POD, []string{"ipc=/proc/4242/ns/ipc", "mount", "network=/proc/4242/ns/net", "pid=/proc/777/ns/pid", "uts=/proc/4242/ns/uts"}},
		{"host everything", NODE, NODE, NODE, []string{"mount"}},
		{"host network only", NODE, CONTAINER, POD, []string{"ipc=/proc/4242/ns/ipc", "mount", "pid"}},
		{"own ipc", POD, CONTAINER, CONTAINER, []string{"ipc", "mount", "network=/proc/4242/ns/net", "pid", "uts=/proc/4242/ns/uts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := &runtimeapi.NamespaceOption{Network: tc.net, Pid: tc.pid, Ipc: tc.ipc, TargetId: "other"}
			o := testOptions()
			o.TargetPid = 777
			s := mustContainerSpec(t, testContainer(&runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: ns}), testPod(), o)
			if got := nsSummary(s); !slices.Equal(got, tc.want) {
				t.Fatalf("namespaces %q, want %q", got, tc.want)
			}
		})
	}
}

func TestContainerNamespaceErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ns    *runtimeapi.NamespaceOption
		o     func(*ContainerOptions)
		field string
	}{
		{"target without pid", &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET, TargetId: "x"}, func(*ContainerOptions) {}, "target_id"},
		{"network CONTAINER", &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_CONTAINER}, func(*ContainerOptions) {}, "namespace_options.network"},
		{"no sandbox pid", &runtimeapi.NamespaceOption{}, func(o *ContainerOptions) { o.SandboxPid = 0 }, "SandboxPid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			tc.o(&o)
			_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: tc.ns}), testPod(), o)
			wantInvalid(t, err, tc.field)
		})
	}
}

func TestCgroupNamespaceOnlyOnCgroupV2AndNotPrivileged(t *testing.T) {
	sb := testPod()
	sb.Linux.SecurityContext.Privileged = true
	for _, privileged := range []bool{false, true} {
		s := mustContainerSpec(t, testContainer(&runtimeapi.LinuxContainerSecurityContext{Privileged: privileged}), sb, testOptions())
		_, has := namespaceOf(s, specs.CgroupNamespace)
		if want := currentHostCgroups().unified && !privileged; has != want {
			t.Errorf("privileged %v on unified=%v: cgroup namespace %v, want %v", privileged, currentHostCgroups().unified, has, want)
		}
	}
}

func usernsPod() *runtimeapi.UserNamespace {
	return &runtimeapi.UserNamespace{
		Mode: runtimeapi.NamespaceMode_POD,
		Uids: []*runtimeapi.IDMapping{{HostId: 100000, ContainerId: 0, Length: 65536}},
		Gids: []*runtimeapi.IDMapping{{HostId: 200000, ContainerId: 0, Length: 65536}},
	}
}

func TestUserNamespacePodModeMapsIDsAndJoinsTheSandboxes(t *testing.T) {
	sb := testPod()
	sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
	cfg := testContainer(&runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: usernsPod()}})
	s := mustContainerSpec(t, cfg, sb, testOptions())
	ns, ok := namespaceOf(s, specs.UserNamespace)
	if !ok || ns.Path != "/proc/4242/ns/user" {
		t.Fatalf("user namespace %+v %v", ns, ok)
	}
	wantU := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	wantG := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	if !slices.Equal(s.Linux.UIDMappings, wantU) || !slices.Equal(s.Linux.GIDMappings, wantG) {
		t.Fatalf("mappings %+v %+v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	sandbox, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
	if err != nil {
		t.Fatal(err)
	}
	if ns, ok := namespaceOf(sandbox, specs.UserNamespace); !ok || ns.Path != "" || !slices.Equal(sandbox.Linux.UIDMappings, wantU) {
		t.Fatalf("sandbox user namespace %+v %v, mappings %+v", ns, ok, sandbox.Linux.UIDMappings)
	}
}

func TestUserNamespaceErrors(t *testing.T) {
	noGids := usernsPod()
	noGids.Gids = nil
	zero := usernsPod()
	zero.Uids[0].Length = 0
	noRoot := usernsPod()
	noRoot.Uids[0].ContainerId = 1
	overlapping := usernsPod()
	overlapping.Uids = append(overlapping.Uids, &runtimeapi.IDMapping{ContainerId: 0, HostId: 300000, Length: 65536})
	sharedHost := usernsPod()
	sharedHost.Gids = append(sharedHost.Gids, &runtimeapi.IDMapping{ContainerId: 70000, HostId: 200000, Length: 1})
	hostRootUID := usernsPod()
	hostRootUID.Uids[0].HostId = 0
	hostRootGID := usernsPod()
	hostRootGID.Gids = append(hostRootGID.Gids, &runtimeapi.IDMapping{ContainerId: 70000, HostId: 0, Length: 1})
	for name, userns := range map[string]*runtimeapi.UserNamespace{
		"host root uid mapped":  hostRootUID,
		"host root gid mapped":  hostRootGID,
		"pod without gids":      noGids,
		"zero length":           zero,
		"root not mapped":       noRoot,
		"container ids overlap": overlapping,
		"host ids overlap":      sharedHost,
		"node with maps":        {Mode: runtimeapi.NamespaceMode_NODE, Uids: usernsPod().Uids},
		"container mode":        {Mode: runtimeapi.NamespaceMode_CONTAINER},
	} {
		t.Run(name, func(t *testing.T) {
			sb := testPod()
			sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = userns
			_, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
			wantInvalid(t, err, "userns_options")
			wantInvalid(t, CheckSandbox(sb), "userns_options")
		})
	}
	// A container must ask for its pod's user namespace.
	sb := testPod()
	sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
	_, err := ContainerSpec(testContainer(nil), sb, testOptions())
	wantInvalid(t, err, "differs from the sandbox")
}

func TestSandboxNamespacesFollowNamespaceOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		ns   *runtimeapi.NamespaceOption
		want []string
	}{
		{"pod network", &runtimeapi.NamespaceOption{}, []string{"ipc", "mount", "network=/run/netns/cni-1", "pid", "uts"}},
		{"host network", &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}, []string{"ipc", "mount", "pid"}},
		{"host pid and ipc", &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_NODE}, []string{"mount", "network=/run/netns/cni-1", "uts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := testPod()
			sb.Linux.SecurityContext.NamespaceOptions = tc.ns
			s, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}, NetNSPath: "/run/netns/cni-1"})
			if err != nil {
				t.Fatal(err)
			}
			if got := nsSummary(s); !slices.Equal(got, tc.want) {
				t.Fatalf("namespaces %q, want %q", got, tc.want)
			}
			wantHostname := "web-0"
			if tc.ns.Network == runtimeapi.NamespaceMode_NODE {
				wantHostname = "" // no UTS namespace of its own to name
			}
			if s.Hostname != wantHostname {
				t.Fatalf("hostname %q, want %q", s.Hostname, wantHostname)
			}
		})
	}
	sb := testPod()
	sb.Linux.SecurityContext.NamespaceOptions = &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET}
	_, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
	wantInvalid(t, err, "namespace_options.pid")
}

// runletd makes the pod's user namespace itself (so it can id-map the
// pause's rootfs first) and has the pause container join it.
func TestSandboxJoinsTheUserNamespaceRunletdMadeAndMapsItsFiles(t *testing.T) {
	sb := testPod()
	sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
	s, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}, UsernsPath: "/proc/77/ns/user",
		IDMappedMounts: true, ResolvPath: "/run/r/resolv.conf", ShmPath: "/run/r/shm"})
	if err != nil {
		t.Fatal(err)
	}
	if ns, ok := namespaceOf(s, specs.UserNamespace); !ok || ns.Path != "/proc/77/ns/user" || len(s.Linux.UIDMappings) != 1 {
		t.Fatalf("user namespace %+v %v, mappings %+v", ns, ok, s.Linux.UIDMappings)
	}
	for _, dst := range []string{"/etc/resolv.conf", "/dev/shm"} {
		if m, _ := mountAt(s, dst); !slices.Equal(m.UIDMappings, s.Linux.UIDMappings) || !slices.Equal(m.GIDMappings, s.Linux.GIDMappings) {
			t.Errorf("%s mappings %+v %+v, want the pod's", dst, m.UIDMappings, m.GIDMappings)
		}
	}
	sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = nil
	s, err = SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}, IDMappedMounts: true, ResolvPath: "/run/r/resolv.conf"})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := mountAt(s, "/etc/resolv.conf"); len(m.UIDMappings) != 0 {
		t.Errorf("no user namespace, yet resolv.conf mapped %+v", m.UIDMappings)
	}
}
