package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/runlet/runlet/integration/internal/cnitest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/images/testimages"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

const (
	busybox = "docker.io/library/busybox:latest"
	// containerdShim is Debian's containerd 1.6 shim, a third-party handler.
	containerdShim = "/usr/bin/containerd-shim-runc-v2"
	podNamespace   = "reliability"
)

// fixture is a runletd on a configuration of the test's own: runlet's
// runc (default) and crun shims, containerd's shim as "containerd-runc"
// when installed, busybox imported at start, pods under a cgroup parent
// of the test's own and, with withNetwork, a CNI network of the test's
// own with portmap.
type fixture struct {
	*daemontest.Daemon
	handlers []string // "runc", "crun"[, "containerd-runc"]
	cgroup   string   // the pods' cgroup parent, removed at cleanup
	netName  string   // the CNI network ("" without one)
	leaseDir string   // host-local's data dir (leases in leaseDir/netName)
	baseline stateFiles
	pids     map[int]seenProcess // processes the test saw (pause, containers, shims): none may outlive it
	sockets  map[string]string   // shim sockets the test saw: none may outlive the pods
	names    map[string]string   // pod and container ids the test saw, to name them in a leak report
}

type option func(*fixtureOptions)

type fixtureOptions struct{ network bool }

// withNetwork gives the pods a CNI network (bridge, host-local, portmap,
// loopback) so that leases and host port rules are really made.
func withNetwork(o *fixtureOptions) { o.network = true }

func start(t *testing.T, opts ...option) *fixture {
	t.Helper()
	daemontest.NeedRoot(t)
	daemontest.Tool(t, "crictl")
	var o fixtureOptions
	for _, opt := range opts {
		opt(&o)
	}
	dir := daemontest.ShortTempDir(t)
	importDir := filepath.Join(dir, "import")
	if err := os.Mkdir(importDir, 0o700); err != nil {
		t.Fatal(err)
	}
	img, err := testimages.BusyboxImage("")
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteOCIArchive(filepath.Join(importDir, "busybox.tar"), busybox, img); err != nil {
		t.Fatal(err)
	}
	f := &fixture{handlers: []string{"runc", "crun"}, cgroup: "/runlet-rel-" + cnitest.RandomHex(t, 4), pids: map[int]seenProcess{}, sockets: map[string]string{}, names: map[string]string{}}
	confDir := filepath.Join(dir, "net.d")
	if err := os.Mkdir(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if o.network {
		f.netName = "runlet-rel-" + cnitest.RandomHex(t, 3)
		f.leaseDir = filepath.Join(dir, "cni-leases")
		cnitest.Network(t, confDir, f.leaseDir, f.netName, "rlr")
	}
	// runlet's shims put their sockets under the test's state (their
	// default, /run/runlet/s, is shared by every runletd on the host), so
	// that the check of the state's files sees a socket left behind.
	t.Setenv("RUNLET_SHIM_SOCKET_DIR", filepath.Join(dir, "state", "s"))
	extra := fmt.Sprintf("[images]\nimport_dir = %q\n[network]\ncni_conf_dir = %q\n", importDir, confDir)
	if _, err := os.Stat(containerdShim); err == nil {
		extra += fmt.Sprintf("[runtimes.containerd-runc]\nshim = %q\n", containerdShim)
		f.handlers = append(f.handlers, "containerd-runc")
	}
	t.Cleanup(func() { removeCgroups(t, f.cgroup) })
	t.Cleanup(f.killLeftovers) // after the daemon's stop: whatever a failed test left
	f.Daemon = daemontest.StartIn(t, dir, extra)
	t.Cleanup(func() {
		if t.Failed() && f.Proc != nil && !f.Proc.Exited() {
			f.Crictl(t, "rmp", "-af") // what a failed test left, while the network is still there
		}
	})
	f.baseline = f.stateFiles(t)
	return f
}

// needHandler skips when the handler is not configured.
func (f *fixture) needHandler(t *testing.T, h string) {
	t.Helper()
	for _, x := range f.handlers {
		if x == h {
			return
		}
	}
	t.Skipf("handler %s is not installed", h)
}

// podConfig is a pod named name (uid derived from the name, so that a
// retry is the same pod for kubelet), in the fixture's cgroup parent,
// with a host port mapping when the fixture has a network.
func (f *fixture) podConfig(t *testing.T, name string, attempt uint32) *runtimeapi.PodSandboxConfig {
	t.Helper()
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: podNamespace, Uid: "uid-" + name, Attempt: attempt},
		Hostname:     name,
		LogDirectory: filepath.Join(f.Dir, "logs", name),
		DnsConfig:    &runtimeapi.DNSConfig{Servers: []string{"127.0.0.53"}},
		Labels:       map[string]string{"reliability-test": "1"},
		Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: f.cgroup},
	}
	if f.netName != "" {
		cfg.PortMappings = []*runtimeapi.PortMapping{{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 8080,
			HostPort: int32(daemontest.FreePort(t)), HostIp: "127.0.0.1"}}
	}
	return cfg
}

// ctrConfig is a busybox container named name running argv.
func ctrConfig(name string, argv ...string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: busybox},
		Command:  argv,
		LogPath:  name + ".log",
	}
}

// runPod runs a pod and remembers its pause pid.
func (f *fixture) runPod(t *testing.T, cfg *runtimeapi.PodSandboxConfig, handler string) string {
	t.Helper()
	resp, err := f.Runtime.RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: handler})
	if err != nil {
		t.Fatalf("RunPodSandbox %s on %s: %v", cfg.Metadata.Name, handler, err)
	}
	f.podInfo(t, resp.PodSandboxId)
	return resp.PodSandboxId
}

// createCtr creates a container in a pod.
func (f *fixture) createCtr(t *testing.T, pod string, podCfg *runtimeapi.PodSandboxConfig, cfg *runtimeapi.ContainerConfig) string {
	t.Helper()
	resp, err := f.Runtime.CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: cfg, SandboxConfig: podCfg})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", cfg.Metadata.Name, err)
	}
	return resp.ContainerId
}

// startCtr starts a container and returns its pid.
func (f *fixture) startCtr(t *testing.T, id string) int {
	t.Helper()
	if _, err := f.Runtime.StartContainer(ctx(t), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("StartContainer %s: %v", id, err)
	}
	st, pid := f.ctrStatus(t, id)
	if st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || !running(pid) {
		t.Fatalf("container %s after StartContainer: %s, pid %d running %v", id, st.State, pid, running(pid))
	}
	return pid
}

// run runs a pod with one started container running argv.
func (f *fixture) run(t *testing.T, name, handler string, argv ...string) (pod, ctr string, podCfg *runtimeapi.PodSandboxConfig) {
	t.Helper()
	podCfg = f.podConfig(t, name, 0)
	pod = f.runPod(t, podCfg, handler)
	ctr = f.createCtr(t, pod, podCfg, ctrConfig(name, argv...))
	f.startCtr(t, ctr)
	return pod, ctr, podCfg
}

// podInfo is a pod's status and its verbose info (pid, shimAddress...);
// it remembers the pause pid and the pod's shim.
func (f *fixture) podInfo(t *testing.T, id string) (*runtimeapi.PodSandboxStatus, podInfo) {
	t.Helper()
	resp, err := f.Runtime.PodSandboxStatus(ctx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus %s: %v", id, err)
	}
	f.names[id] = "pod " + resp.GetStatus().GetMetadata().GetName()
	var info podInfo
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil {
		t.Fatalf("PodSandboxStatus %s: verbose info %q: %v", id, resp.Info["info"], err)
	}
	if info.ShimAddress != "" {
		f.sockets[strings.TrimPrefix(info.ShimAddress, "unix://")] = "shim socket of " + id
	}
	if info.Pid > 0 {
		f.saw(info.Pid, "pause of "+id)
		if shim := parentPid(info.Pid); shim > 1 {
			f.saw(shim, "shim of "+id)
		}
	}
	return resp.Status, info
}

// seenProcess is a process the test saw: its pid with its start time
// names it, so that a pid the kernel gave to another process since is
// neither reported nor killed.
type seenProcess struct{ what, start string }

func (f *fixture) saw(pid int, what string) {
	if start := startTime(pid); start != "" {
		f.pids[pid] = seenProcess{what, start}
	}
}

// alive reports whether the process the test saw as pid still runs.
func (p seenProcess) alive(pid int) bool { return running(pid) && startTime(pid) == p.start }

type podInfo struct {
	Pid         int    `json:"pid"`
	ShimAddress string `json:"shimAddress"`
	NetNS       string `json:"netns"`
}

// ctrStatus is a container's status and its pid (verbose info "pid"); it
// remembers the pid.
func (f *fixture) ctrStatus(t *testing.T, id string) (*runtimeapi.ContainerStatus, int) {
	t.Helper()
	resp, err := f.Runtime.ContainerStatus(ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	f.names[id] = "container " + resp.GetStatus().GetMetadata().GetName()
	var info struct {
		Pid int `json:"pid"`
	}
	if s := resp.Info["info"]; s != "" {
		if err := json.Unmarshal([]byte(s), &info); err != nil {
			t.Fatalf("ContainerStatus %s: verbose info %q: %v", id, s, err)
		}
	}
	if info.Pid > 0 {
		f.saw(info.Pid, "container "+id)
	}
	return resp.Status, info.Pid
}

// pods lists the pods (all states).
func (f *fixture) pods(t *testing.T) []*runtimeapi.PodSandbox {
	t.Helper()
	resp, err := f.Runtime.ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Fatalf("ListPodSandbox: %v", err)
	}
	return resp.Items
}

// containers lists the containers (all states).
func (f *fixture) containers(t *testing.T) []*runtimeapi.Container {
	t.Helper()
	resp, err := f.Runtime.ListContainers(ctx(t), &runtimeapi.ListContainersRequest{})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	return resp.Containers
}

// removeAll removes every pod and container through crictl, as an
// operator would.
func (f *fixture) removeAll(t *testing.T) {
	t.Helper()
	f.MustCrictl(t, "rmp", "-af")
	f.MustCrictl(t, "rm", "-af")
	if p, c := f.pods(t), f.containers(t); len(p)+len(c) != 0 {
		t.Fatalf("after crictl rmp -af and rm -af: %d pods and %d containers still listed", len(p), len(c))
	}
}

func ctx(t testing.TB) context.Context { return daemontest.Ctx(t) }

// callCtx is a short context for one call that may hang on a broken
// runtime.
func callCtx(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

// codeOf is the gRPC code of err (OK for nil).
func codeOf(err error) codes.Code { return status.Code(err) }

// running reports whether pid is a live process (a zombie has ended).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] != 'Z'
}

// statFields are the fields of /proc/PID/stat after the command name
// (field 3 onwards), nil when the process is gone.
func statFields(pid int) []string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(stat[i+1:]))
}

// parentPid is a process' parent (0 when gone).
func parentPid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// startTime is a process' start time in clock ticks since boot ("" when
// gone): with the pid, it names one process.
func startTime(pid int) string {
	f := statFields(pid)
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// cmdline is a process' command line, arguments joined by spaces.
func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
}

// removeCgroups removes the pods' cgroup parent (and what a failed test
// left below it) in every hierarchy.
func removeCgroups(t testing.TB, parent string) {
	for _, d := range cgroupDirs(parent) {
		var dirs []string
		filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !os.IsNotExist(err) {
				t.Errorf("cleanup: cgroup left: %v", err)
			}
		}
	}
}

// cgroupDirs are the parent's directories in every mounted hierarchy.
func cgroupDirs(parent string) []string {
	var dirs []string
	for _, pattern := range []string{"/sys/fs/cgroup/*", "/sys/fs/cgroup"} {
		roots, _ := filepath.Glob(pattern)
		for _, r := range roots {
			d := filepath.Join(r, parent)
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}
