package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// groupsImage is busybox whose /etc/passwd has default-user (1000) and
// whose /etc/group puts it in group-defined-in-image (50000), as critest's
// test-image-predefined-group.
const groupsImage = "localhost/runlet-it/groups:1"

// startWithGroupsImage is start with busybox and groupsImage imported.
func startWithGroupsImage(t *testing.T) *fixture {
	t.Helper()
	files, err := testimages.BusyboxFiles()
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		switch files[i].Name {
		case "etc/passwd":
			files[i].Data = append(files[i].Data, "default-user:x:1000:1000::/home/default-user:/bin/sh\n"...)
		case "etc/group":
			files[i].Data = append(files[i].Data, "default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"...)
		}
	}
	layer, err := testimages.Layer(files)
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimages.Image(testimages.Config("amd64", "default-user", "sh"), layer)
	if err != nil {
		t.Fatal(err)
	}
	return startWithImages(t, map[string]v1.Image{groupsImage: img})
}

// usernsPod maps container ids 0-65535 to host ids base and up, as kubelet
// does for a pod with hostUsers: false.
func usernsPod(base uint32) *runtimeapi.UserNamespace {
	m := []*runtimeapi.IDMapping{{ContainerId: 0, HostId: base, Length: 65536}}
	return &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: m, Gids: m}
}

// runUsernsPod starts a pod of handler with the user namespace options (nil for
// none) and returns its id and config.
func (f *fixture) runUsernsPod(t *testing.T, name, handler string, userns *runtimeapi.UserNamespace) (string, *runtimeapi.PodSandboxConfig) {
	t.Helper()
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "it", Uid: randomHex(8)},
		Hostname:     name,
		LogDirectory: filepath.Join(f.Dir, "logs", name),
		DnsConfig:    &runtimeapi.DNSConfig{Servers: []string{"127.0.0.53"}},
		Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: f.cgroup, SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}},
	}
	r, err := f.Runtime.RunPodSandbox(daemontest.Ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: handler})
	if err != nil {
		t.Fatalf("run pod %s on %q: %v", name, handler, err)
	}
	return r.GetPodSandboxId(), cfg
}

// startCtr creates and starts a container in pod.
func (f *fixture) startCtr(t *testing.T, pod string, sb *runtimeapi.PodSandboxConfig, cfg *runtimeapi.ContainerConfig) string {
	t.Helper()
	ctx := daemontest.Ctx(t)
	r, err := f.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: cfg, SandboxConfig: sb})
	if err != nil {
		t.Fatalf("create %s: %v", cfg.GetMetadata().GetName(), err)
	}
	if _, err := f.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: r.GetContainerId()}); err != nil {
		t.Fatalf("start %s: %v", cfg.GetMetadata().GetName(), err)
	}
	return r.GetContainerId()
}

// status is a container's ContainerStatus and the pid of its init.
func (f *fixture) status(t *testing.T, ctr string) (*runtimeapi.ContainerStatus, int) {
	t.Helper()
	r, err := f.Runtime.ContainerStatus(daemontest.Ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: ctr, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	json.Unmarshal([]byte(r.GetInfo()["info"]), &info)
	return r.GetStatus(), info.Pid
}

func (f *fixture) removePod(t *testing.T, pod string) {
	t.Helper()
	ctx := daemontest.Ctx(t)
	if _, err := f.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod}); err != nil {
		t.Fatal(err)
	}
}

func statIDs(t *testing.T, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// owningUserns is the inode of the user namespace owning the namespace
// file at path.
func owningUserns(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_USERNS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// holders lists live userns holder processes (runletd kills each once its
// pod's pause task exists).
func (f *fixture) holders() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.HasPrefix(cmd, []byte("runlet-userns-holder\x00")) && parentPid(e.Name()) == f.Proc.Pid() {
			out = append(out, e.Name())
		}
	}
	return out
}

// parentPid reads a process' parent from /proc (0 when it is gone).
func parentPid(pid string) int {
	b, _ := os.ReadFile(filepath.Join("/proc", pid, "status"))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			return atoi(strings.TrimSpace(v))
		}
	}
	return 0
}

// A user namespace pod on every handler (runc 1.1, crun 1.8, containerd's
// shim: none makes id-mapped mounts itself): the container's root is host
// uid base; the image's files, the pod's files and a volume asking for the
// pod's mappings show as root's, a volume not asking shows as nobody's;
// what root writes lands as host uid base in the rootfs and as host root
// through the mapped volume; the pod's network namespace belongs to its
// user namespace (net sysctls apply inside); nothing stays behind.
func TestUserNamespacePodsMapIDsAndFilesOnEveryHandlerAndLeaveNothing(t *testing.T) {
	f := startWithBusybox(t)
	vol, plain := filepath.Join(f.Dir, "vol"), filepath.Join(f.Dir, "plain")
	for _, d := range []string{vol, plain} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte("host root's"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range f.handlers {
		name := []string{"runc", "crun", "ctrd"}[i]
		base := uint32(1_000_000 + i*65536)
		userns := usernsPod(base)
		pod, sb := f.runUsernsPod(t, "userns-"+name, h, userns)
		ctr := f.startCtr(t, pod, sb, &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "c"}, Image: &runtimeapi.ImageSpec{Image: busybox},
			Command: []string{"sleep", "1000"}, LogPath: "c.log",
			Mounts: []*runtimeapi.Mount{
				{ContainerPath: "/vol", HostPath: vol, UidMappings: userns.Uids, GidMappings: userns.Gids},
				{ContainerPath: "/plain", HostPath: plain},
			},
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}},
		})
		out, errOut, code := f.sh(t, ctr, `cat /proc/self/uid_map /proc/self/gid_map; id -u
			stat -c %u:%g / /bin/busybox /etc/passwd /etc/resolv.conf /etc/hosts /etc/hostname /dev/shm /vol/f /plain/f
			cat /proc/sys/net/ipv4/ip_unprivileged_port_start
			touch /written /vol/written-by-`+name+` && mkdir /newdir`)
		b := fmt.Sprint(base)
		want := []string{"0", b, "65536", "0", b, "65536", "0",
			"0:0", "0:0", "0:0", "0:0", "0:0", "0:0", "0:0", "0:0", "65534:65534", "0"}
		if got := strings.Fields(out); !slices.Equal(got, want) || code != 0 {
			t.Fatalf("%s: the container printed %q (exit %d, stderr %q), want %q", name, got, code, errOut, want)
		}
		if got := statIDs(t, filepath.Join(f.Root, "snapshots", ctr, "upper", "written")); got != b+":"+b {
			t.Errorf("%s: a file root wrote in its rootfs is %s on the host, want %s:%s", name, got, b, b)
		}
		if got := statIDs(t, filepath.Join(vol, "written-by-"+name)); got != "0:0" {
			t.Errorf("%s: a file root wrote through the mapped volume is %s on the host, want 0:0", name, got)
		}
		st, pid := f.status(t, ctr)
		hostUser, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if !strings.Contains(string(hostUser), "\nUid:\t"+b+"\t") {
			t.Errorf("%s: the init's host uid is not %s:\n%s", name, b, hostUser)
		}
		if u := st.GetUser().GetLinux(); u.GetUid() != 0 || u.GetGid() != 0 || !slices.Equal(u.GetSupplementalGroups(), []int64{0}) {
			t.Errorf("%s: ContainerStatus user %v, want root inside the namespace", name, u)
		}
		ctrUserns := fmt.Sprintf("/proc/%d/ns/user", pid)
		if owningUserns(t, filepath.Join(f.State, "netns", pod)) != inodeOf(t, ctrUserns) {
			t.Errorf("%s: the pod's network namespace is not owned by its user namespace", name)
		}
		f.removePod(t, pod)
	}
	f.assertNothingLeft(t)
	if h := f.holders(); len(h) != 0 {
		t.Errorf("user namespace holders left: %v", h)
	}
}

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// Status tells kubelet and critest what runletd honours: user namespaces
// and recursive read-only mounts on runlet's runc and crun handlers, and
// the SupplementalGroupsPolicy runtime feature.
func TestStatusAdvertisesUserNamespacesRROAndSupplementalGroupsPolicy(t *testing.T) {
	f := start(t)
	r, err := f.Runtime.Status(daemontest.Ctx(t), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.GetFeatures().GetSupplementalGroupsPolicy() {
		t.Error("SupplementalGroupsPolicy not advertised")
	}
	for _, name := range []string{"", "runc", "crun"} {
		i := slices.IndexFunc(r.GetRuntimeHandlers(), func(h *runtimeapi.RuntimeHandler) bool { return h.GetName() == name })
		if i < 0 {
			t.Fatalf("handler %q not listed: %v", name, r.GetRuntimeHandlers())
		}
		if ft := r.GetRuntimeHandlers()[i].GetFeatures(); !ft.GetUserNamespaces() || !ft.GetRecursiveReadOnlyMounts() {
			t.Errorf("handler %q features %v, want user namespaces and rro", name, ft)
		}
	}
}

// SupplementalGroupsPolicy (KEP 3619) on runc and crun: Merge adds the
// groups the image's /etc/group gives the user, Strict only the asked
// ones; both the init process and an exec get them, and ContainerStatus
// reports the init's user.
func TestSupplementalGroupsPolicyMergeAddsTheImagesGroupsStrictDoesNot(t *testing.T) {
	f := startWithGroupsImage(t)
	for _, h := range []string{"", "crun"} {
		pod, sb := f.runUsernsPod(t, "groups"+h, h, nil)
		for _, tc := range []struct {
			policy runtimeapi.SupplementalGroupsPolicy
			want   []int64
		}{
			{runtimeapi.SupplementalGroupsPolicy_Merge, []int64{1000, 1234, 50000}},
			{runtimeapi.SupplementalGroupsPolicy_Strict, []int64{1000, 1234}},
		} {
			name := strings.ToLower(tc.policy.String())
			ctr := f.startCtr(t, pod, sb, &runtimeapi.ContainerConfig{
				Metadata: &runtimeapi.ContainerMetadata{Name: name}, Image: &runtimeapi.ImageSpec{Image: groupsImage},
				Command: []string{"sh", "-c", "id -G; sleep 1000"}, LogPath: name + ".log",
				Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
					RunAsUser: &runtimeapi.Int64Value{Value: 1000}, SupplementalGroups: []int64{1234},
					SupplementalGroupsPolicy: tc.policy,
				}},
			})
			want := strings.Trim(fmt.Sprint(tc.want), "[]")
			f.waitLogs(t, ctr, want+"\n")
			if out, _, _ := f.sh(t, ctr, "id -G"); out != want {
				t.Errorf("%q %s: exec's groups %q, want %q", h, name, out, want)
			}
			daemontest.WaitFor(t, 10*time.Second, "the container to run", func() bool {
				st, _ := f.status(t, ctr)
				return st.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING
			})
			st, _ := f.status(t, ctr)
			u := st.GetUser().GetLinux()
			if u.GetUid() != 1000 || u.GetGid() != 1000 || !slices.Equal(u.GetSupplementalGroups(), tc.want) {
				t.Errorf("%q %s: ContainerStatus user %v, want 1000:1000 %v", h, name, u, tc.want)
			}
		}
		f.removePod(t, pod)
	}
	f.assertNothingLeft(t)
}

// runletd keeps nothing of a user namespace pod in memory: after a
// restart a new container joins the pod's namespace and gets its id-mapped
// rootfs from the pause's user namespace.
func TestAUserNamespacePodTakesNewContainersAfterARestart(t *testing.T) {
	f := startWithBusybox(t)
	userns := usernsPod(2_000_000)
	pod, sb := f.runUsernsPod(t, "userns-restart", "", userns)
	ctrCfg := func(name string) *runtimeapi.ContainerConfig {
		return &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: name}, Image: &runtimeapi.ImageSpec{Image: busybox},
			Command: []string{"sleep", "1000"},
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}},
		}
	}
	f.startCtr(t, pod, sb, ctrCfg("before"))
	f.Proc.Kill()
	f.Restart(t)
	ctr := f.startCtr(t, pod, sb, ctrCfg("after"))
	if out, _, _ := f.sh(t, ctr, "cat /proc/self/uid_map; stat -c %u /bin/busybox"); strings.Join(strings.Fields(out), " ") != "0 2000000 65536 0" {
		t.Fatalf("a container made after the restart printed %q", out)
	}
	f.removePod(t, pod)
	f.assertNothingLeft(t)
}

// A user namespace pod that cannot be made (here: runletd's state is not
// reachable by the pod's root) is refused as FailedPrecondition, naming
// the directory, and leaves no holder, namespace, bundle or mount.
func TestAUserNamespacePodRefusedForAnUnreachableStateLeavesNothing(t *testing.T) {
	f := startWithBusybox(t)
	if err := os.Chmod(f.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(f.Dir, 0o711) })
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "unreachable", Namespace: "it", Uid: randomHex(8)},
		Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: f.cgroup, SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: usernsPod(3_000_000)}}},
	}
	_, err := f.Runtime.RunPodSandbox(daemontest.Ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), f.Dir) {
		t.Fatalf("run pod: %v, want FailedPrecondition naming %s", err, f.Dir)
	}
	f.assertNothingLeft(t)
	if h := f.holders(); len(h) != 0 {
		t.Errorf("user namespace holders left: %v", h)
	}
}

// An image's declared volume in a user namespace pod is mapped as the
// pod's files are: its copied content keeps the image's owners inside.
func TestAnImagesDeclaredVolumeInAUserNamespacePodKeepsTheImagesOwners(t *testing.T) {
	f := startWithVolumeImages(t)
	userns := usernsPod(4_000_000)
	pod, sb := f.runUsernsPod(t, "userns-volumes", "crun", userns)
	ctr := f.startCtr(t, pod, sb, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "v"}, Image: &runtimeapi.ImageSpec{Image: volImage},
		Command: []string{"sleep", "1000"},
		Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}},
	})
	if out, errOut, _ := f.sh(t, ctr, "stat -c %u:%g /data/seed /empty; cat /data/seed; touch /data/new"); strings.Join(strings.Fields(out), " ") != "1234:1234 0:0 seed" {
		t.Fatalf("declared volumes in a user namespace pod: %q %q", out, errOut)
	}
	f.removePod(t, pod)
	f.assertNothingLeft(t)
}
