package specgen

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle/bundletest"
)

func withMounts(mounts ...*runtimeapi.Mount) *runtimeapi.ContainerConfig {
	cfg := testContainer(nil)
	cfg.Mounts = mounts
	return cfg
}

func TestCRIMountsBecomeBindMounts(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(dir, link)
	s := mustContainerSpec(t, withMounts(
		&runtimeapi.Mount{ContainerPath: "/data/sub", HostPath: dir, Readonly: true},
		&runtimeapi.Mount{ContainerPath: "/data/", HostPath: link, MountOptions: []string{"noexec", "nosuid"}},
	), testPod(), testOptions())
	got, _ := mountAt(s, "/data")
	want := specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "rprivate", "rw", "noexec", "nosuid"}}
	if got.Source != want.Source || got.Type != "bind" || !slices.Equal(got.Options, want.Options) {
		t.Fatalf("/data = %+v, want %+v (symlink resolved)", got, want)
	}
	if sub, _ := mountAt(s, "/data/sub"); !slices.Equal(sub.Options, []string{"rbind", "rprivate", "ro"}) {
		t.Fatalf("/data/sub options %q", sub.Options)
	}
	data := slices.IndexFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/data" })
	sub := slices.IndexFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/data/sub" })
	if data > sub {
		t.Fatalf("/data/sub (%d) mounted before /data (%d) would be hidden", sub, data)
	}
	if s.Linux.RootfsPropagation != "" {
		t.Fatalf("rootfs propagation %q for private mounts", s.Linux.RootfsPropagation)
	}
}

func TestMountValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		m     *runtimeapi.Mount
		class error
		field string
	}{
		{"missing host path", &runtimeapi.Mount{ContainerPath: "/x", HostPath: filepath.Join(dir, "nope")}, errdefs.ErrInvalidArgument, "mounts[0].host_path"},
		{"relative container path", &runtimeapi.Mount{ContainerPath: "x", HostPath: dir}, errdefs.ErrInvalidArgument, "mounts[0].container_path"},
		{"relative host path", &runtimeapi.Mount{ContainerPath: "/x", HostPath: "data"}, errdefs.ErrInvalidArgument, "mounts[0].host_path"},
		{"unknown option", &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, MountOptions: []string{"remount"}}, errdefs.ErrInvalidArgument, "mount_options"},
		{"rro without ro", &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, RecursiveReadOnly: true}, errdefs.ErrInvalidArgument, "recursive_read_only"},
		{"rro with slave", &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, Readonly: true, RecursiveReadOnly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}, errdefs.ErrInvalidArgument, "recursive_read_only"},
		{"rro unsupported", &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, Readonly: true, RecursiveReadOnly: true}, errdefs.ErrNotImplemented, "recursive_read_only"},
		{"image volume", &runtimeapi.Mount{ContainerPath: "/x", Image: &runtimeapi.ImageSpec{Image: "sha256:abc"}}, errdefs.ErrNotImplemented, "image"},
		{"image and host path", &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, Image: &runtimeapi.ImageSpec{Image: "sha256:abc"}}, errdefs.ErrInvalidArgument, "mutually exclusive"},
		{"idmap unsupported", &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, UidMappings: []*runtimeapi.IDMapping{{Length: 1}}}, errdefs.ErrNotImplemented, "id-mapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ContainerSpec(withMounts(tc.m), testPod(), testOptions())
			wantClass(t, err, tc.class, tc.field)
		})
	}
}

func TestIDMappedCRIMounts(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.IDMappedMounts = true
	m := &runtimeapi.Mount{ContainerPath: "/x", HostPath: dir, UidMappings: []*runtimeapi.IDMapping{{HostId: 1000, ContainerId: 0, Length: 10}}, GidMappings: []*runtimeapi.IDMapping{{HostId: 2000, Length: 10}}}
	s := mustContainerSpec(t, withMounts(m), testPod(), o)
	if got, _ := mountAt(s, "/x"); len(got.UIDMappings) != 1 || got.UIDMappings[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1000, Size: 10}) || got.GIDMappings[0].HostID != 2000 {
		t.Fatalf("mappings %+v %+v", got.UIDMappings, got.GIDMappings)
	}
	m.UidMappings[0].Length = 0
	_, err := ContainerSpec(withMounts(m), testPod(), o)
	wantInvalid(t, err, "uidMappings")
}

func TestRecursiveReadOnlyAndImageMountHooks(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.RecursiveReadOnly = true
	o.ImageMount = func(m *runtimeapi.Mount) (string, error) { return dir, nil }
	s := mustContainerSpec(t, withMounts(
		&runtimeapi.Mount{ContainerPath: "/rro", HostPath: dir, Readonly: true, RecursiveReadOnly: true},
		&runtimeapi.Mount{ContainerPath: "/img", Image: &runtimeapi.ImageSpec{Image: "sha256:abc"}, Readonly: true},
	), testPod(), o)
	if m, _ := mountAt(s, "/rro"); !slices.Contains(m.Options, "rro") {
		t.Errorf("/rro options %q", m.Options)
	}
	if m, _ := mountAt(s, "/img"); m.Source != dir {
		t.Errorf("/img source %q", m.Source)
	}
}

func TestCRIMountsReplaceDefaultsAndSandboxFiles(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.HostsPath, o.ShmPath = writeFile(t, dir, "hosts"), dir
	mine := writeFile(t, t.TempDir(), "my-hosts")
	s := mustContainerSpec(t, withMounts(
		&runtimeapi.Mount{ContainerPath: "/etc/hosts", HostPath: mine},
		&runtimeapi.Mount{ContainerPath: "/dev", HostPath: dir},
		&runtimeapi.Mount{ContainerPath: "/proc", HostPath: dir},
	), testPod(), o)
	if m, _ := mountAt(s, "/etc/hosts"); m.Source != mine {
		t.Errorf("/etc/hosts from %q, want the CRI mount's", m.Source)
	}
	for _, dst := range []string{"/dev", "/proc"} {
		n := 0
		for _, m := range s.Mounts {
			if m.Destination == dst {
				n++
				if m.Type != "bind" {
					t.Errorf("%s is still the default %s", dst, m.Type)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d mounts at %s", n, dst)
		}
	}
	for _, m := range s.Mounts {
		if m.Type != "bind" && len(m.Destination) > 5 && m.Destination[:5] == "/dev/" {
			t.Errorf("default %s kept under a supplied /dev", m.Destination)
		}
	}
}

func TestUserNamespaceSandboxFilesAreIDMapped(t *testing.T) {
	sb := testPod()
	sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
	o := testOptions()
	o.HostsPath, o.ShmPath = writeFile(t, t.TempDir(), "hosts"), t.TempDir()
	sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: usernsPod()}}
	if m, _ := mountAt(mustContainerSpec(t, testContainer(sc), sb, o), "/etc/hosts"); len(m.UIDMappings) != 0 {
		t.Fatalf("/etc/hosts mapped %+v for a runtime without id-mapped mounts", m.UIDMappings)
	}
	o.IDMappedMounts = true
	s := mustContainerSpec(t, testContainer(sc), sb, o)
	if m, _ := mountAt(s, "/etc/hosts"); len(m.UIDMappings) != 1 || m.UIDMappings[0].HostID != 100000 || m.GIDMappings[0].HostID != 200000 {
		t.Errorf("/etc/hosts mappings %+v %+v", m.UIDMappings, m.GIDMappings)
	}
	if m, _ := mountAt(s, "/dev/shm"); len(m.UIDMappings) != 1 {
		t.Errorf("the pod's /dev/shm mappings %+v, want the pod's (runletd stages it id-mapped)", m.UIDMappings)
	}
	sc.NamespaceOptions.Ipc = runtimeapi.NamespaceMode_NODE
	if m, _ := mountAt(mustContainerSpec(t, testContainer(sc), sb, o), "/dev/shm"); m.Source != "/dev/shm" || len(m.UIDMappings) != 0 {
		t.Errorf("IPC NODE: /dev/shm %s mapped %+v, want the host's unmapped", m.Source, m.UIDMappings)
	}
}

// mountTmpfs mounts a tmpfs at a new directory with the given propagation
// flag and unmounts it on cleanup.
func mountTmpfs(t *testing.T, propagation uintptr) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", propagation, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

// slaveOf bind-mounts the shared mount at master onto a new directory and
// makes that a slave of it (a slave needs a peer group to follow).
func slaveOf(t *testing.T, master string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount(master, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SLAVE, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMountPropagationChecksTheHostMount(t *testing.T) {
	bundletest.RequireRoot(t)
	private := mountTmpfs(t, unix.MS_PRIVATE)
	shared := mountTmpfs(t, unix.MS_SHARED)
	slave := slaveOf(t, mountTmpfs(t, unix.MS_SHARED))
	os.Mkdir(filepath.Join(shared, "sub"), 0o755)
	const (
		h2c = runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
		bi  = runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
	)
	for _, tc := range []struct {
		name     string
		host     string
		prop     runtimeapi.MountPropagation
		wantOpt  string
		wantRoot string
	}{
		{"host-to-container of shared", filepath.Join(shared, "sub"), h2c, "rslave", "rslave"},
		{"host-to-container of slave", slave, h2c, "rslave", "rslave"},
		{"bidirectional of shared", shared, bi, "rshared", "rshared"},
		{"host-to-container of private", private, h2c, "", ""},
		{"bidirectional of slave", slave, bi, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ContainerSpec(withMounts(&runtimeapi.Mount{ContainerPath: "/m", HostPath: tc.host, Propagation: tc.prop}), testPod(), testOptions())
			if tc.wantOpt == "" {
				wantClass(t, err, errdefs.ErrFailedPrecondition, "propagation")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := mountAt(s, "/m"); !slices.Contains(m.Options, tc.wantOpt) || s.Linux.RootfsPropagation != tc.wantRoot {
				t.Fatalf("options %q rootfs propagation %q, want %s %s", m.Options, s.Linux.RootfsPropagation, tc.wantOpt, tc.wantRoot)
			}
		})
	}
	// rshared wins over rslave for the rootfs.
	s, err := ContainerSpec(withMounts(
		&runtimeapi.Mount{ContainerPath: "/a", HostPath: slave, Propagation: h2c},
		&runtimeapi.Mount{ContainerPath: "/b", HostPath: shared, Propagation: bi},
	), testPod(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if s.Linux.RootfsPropagation != "rshared" {
		t.Fatalf("rootfs propagation %q, want rshared", s.Linux.RootfsPropagation)
	}
}
