package critest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"github.com/runlet/runlet/integration/internal/cnitest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// containerdBin is the containerd the benchmark compares runletd with
// (Debian's 1.6, with its CRI plugin), when installed.
const containerdBin = "/usr/bin/containerd"

// containerdSandboxImage is the pause image containerd's pods run, one of
// the images critestimages pushes.
const containerdSandboxImage = "registry.k8s.io/pause:3.9"

// containerdCRI is a private containerd serving the CRI.
type containerdCRI struct {
	dir, sock, crictlBin string
	proc                 *daemontest.Process
}

func (c *containerdCRI) endpoint() string { return "unix://" + c.sock }

// startContainerdEnvironment waits to be the only critest run on the
// machine, then starts a registry with critest's images, a CNI network
// and a private containerd using both, everything under a new short temp
// dir (returned), and puts the host back at cleanup.
func startContainerdEnvironment(t *testing.T, critest string) (string, *containerdCRI) {
	t.Helper()
	lockHost(t, critest)
	dir := daemontest.ShortTempDir(t)
	removeNewShm(t)
	cnitest.Network(t, filepath.Join(dir, "net.d"), filepath.Join(dir, "cni-data"), cniNetworkName, "rlc")
	registry := serveImages(t)
	return dir, startContainerd(t, dir, registry)
}

// startContainerd starts containerd with root, state, sockets, runc roots
// and network namespaces under dir, its CRI pulling every registry
// critest names from registry and running pods on the CNI network of
// dir/net.d. At cleanup it removes every pod, stops containerd, and
// removes what a failed teardown left: processes in the pods' cgroups,
// shims, the cgroups.
func startContainerd(t *testing.T, dir, registry string) *containerdCRI {
	t.Helper()
	c := &containerdCRI{dir: dir, sock: filepath.Join(dir, "containerd.sock"), crictlBin: daemontest.Tool(t, "crictl")}
	cfg := filepath.Join(dir, "containerd.toml")
	if err := os.WriteFile(cfg, []byte(containerdConfig(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	writeRegistryHosts(t, filepath.Join(dir, "certs.d"), registry)
	removeNewContainerdCgroups(t)
	removeNewDirs(t, filepath.Dir(shimSocketDir), shimSocketDir)
	t.Cleanup(func() { killLeftShims(t, c.sock) })
	c.proc = daemontest.StartProcess(t, filepath.Join(dir, "containerd.log"), containerdBin, "--config", cfg)
	t.Cleanup(func() { c.removeAllPods(t) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("containerd log:\n%s", lastBytes([]byte(c.proc.LogText()), 16000))
		}
	})
	c.waitReady(t)
	out, err := c.crictl("pull", containerdSandboxImage)
	c.checkPullsStayLocal(t)
	if err != nil {
		t.Fatalf("pull the pause image into containerd: %v\n%s", err, out)
	}
	return c
}

// checkPullsStayLocal stops the test when containerd's log shows that it
// did not take the registry hosts configuration or tried a host other
// than the local registry (it would then go on to the upstream hosts).
func (c *containerdCRI) checkPullsStayLocal(t *testing.T) {
	t.Helper()
	for _, line := range strings.Split(c.proc.LogText(), "\n") {
		if strings.Contains(line, "hosts.toml") || strings.Contains(line, "trying next host") {
			t.Fatalf("containerd's pulls may leave the machine: %s", line)
		}
	}
}

// containerdConfig is containerd 1.6's configuration (version 2) for a
// private instance under dir. restrict_oom_score_adj keeps the pause
// container's oom_score_adj (-998) from going below containerd's own:
// root here lacks CAP_SYS_RESOURCE, so runc cannot write a negative one.
func containerdConfig(dir string) string {
	return fmt.Sprintf(`version = 2
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "%[1]s/containerd.sock"
[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[2]q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "runc"
        Root = "%[1]s/runc"
        SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
        BinaryName = "crun"
        Root = "%[1]s/crun"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "%[1]s/certs.d"
`, dir, containerdSandboxImage)
}

// writeRegistryHosts points every registry critest pulls from at registry
// (plain HTTP). A hosts.toml `server` replaces the upstream host, where a
// CRI `registry.mirrors` entry would fall back to it when the mirror
// fails: no pull ever leaves the machine.
func writeRegistryHosts(t *testing.T, certsDir, registry string) {
	t.Helper()
	for _, host := range []string{"registry.k8s.io", "k8s.gcr.io", "gcr.io"} {
		d := filepath.Join(certsDir, host)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// containerd 1.6.20 rejects a hosts.toml without a host tree
		// (and then falls back to the upstream host).
		hosts := fmt.Sprintf("server = %[1]q\n[host.%[1]q]\n  capabilities = [\"pull\", \"resolve\"]\n", "http://"+registry)
		if err := os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(hosts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitReady waits until containerd's CRI reports its runtime and its
// network ready (the CNI configuration loaded).
func (c *containerdCRI) waitReady(t *testing.T) {
	t.Helper()
	conn, err := grpc.NewClient(c.endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := runtime.NewRuntimeServiceClient(conn)
	var last string
	daemontest.WaitFor(t, 30*time.Second, "containerd's CRI to be ready", func() bool {
		if c.proc.Exited() {
			t.Fatalf("containerd exited:\n%s", lastBytes([]byte(c.proc.LogText()), 16000))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st, err := client.Status(ctx, &runtime.StatusRequest{})
		if err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprint(st.GetStatus().GetConditions())
		for _, cond := range st.GetStatus().GetConditions() {
			if !cond.GetStatus() {
				return false
			}
		}
		return true
	})
	t.Logf("containerd ready: %s", last)
}

// crictl runs the real crictl against containerd.
func (c *containerdCRI) crictl(args ...string) (string, error) {
	cfg := filepath.Join(c.dir, "crictl.yaml")
	if _, err := os.Stat(cfg); err != nil {
		yaml := fmt.Sprintf("runtime-endpoint: %s\nimage-endpoint: %s\n", c.endpoint(), c.endpoint())
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--config", cfg, "--runtime-endpoint", c.endpoint(), "--image-endpoint", c.endpoint(), "--timeout", "60s"}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c.crictlBin, append(base, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// removeAllPods stops and removes every pod (and so every container)
// critest left, so that containerd's shims exit before containerd stops.
func (c *containerdCRI) removeAllPods(t *testing.T) {
	if c.proc.Exited() {
		return
	}
	out, err := c.crictl("rmp", "--all", "--force")
	if err != nil {
		t.Errorf("cleanup: crictl rmp -af on containerd: %v\n%s", err, out)
	} else if strings.Contains(out, "Removed") {
		t.Logf("cleanup: removed the pods critest left on containerd:\n%s", strings.TrimSpace(out))
	}
}

// shimSocketDir is where containerd 1.6's shims put their sockets,
// whatever containerd's state dir.
const shimSocketDir = "/run/containerd/s"

// killLeftShims kills, by pid, the shims of the containerd at sock that
// still run after it stopped (their pods' teardown failed) and removes
// their sockets.
func killLeftShims(t *testing.T, sock string) {
	for _, shim := range shimsOf(sock) {
		t.Errorf("cleanup: shim pid %d (pod %s) outlived containerd; killing it", shim.pid, shim.id)
		if err := syscall.Kill(shim.pid, syscall.SIGKILL); err != nil {
			t.Errorf("cleanup: kill shim %d: %v", shim.pid, err)
		}
		// As containerd 1.6 names it: sha256 of address/namespace/id.
		name := fmt.Sprintf("%x", sha256.Sum256([]byte(filepath.Join(sock, shim.namespace, shim.id))))
		os.Remove(filepath.Join(shimSocketDir, name))
	}
}

// removeNewDirs removes, at cleanup, those of dirs (parents first) that
// do not exist yet, when empty.
func removeNewDirs(t *testing.T, dirs ...string) {
	var made []string
	for _, d := range dirs {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			made = append(made, d)
		}
	}
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // only when empty
		}
	})
}

type shimProc struct {
	pid           int
	namespace, id string
}

// shimsOf lists the shim processes started for the containerd at sock
// (their command line has -address sock).
func shimsOf(sock string) []shimProc {
	entries, _ := os.ReadDir("/proc")
	var shims []shimProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		flags := map[string]string{}
		for i := 0; i+1 < len(args); i++ {
			if strings.HasPrefix(args[i], "-") {
				flags[strings.TrimLeft(args[i], "-")] = args[i+1]
			}
		}
		if flags["address"] == sock {
			shims = append(shims, shimProc{pid: pid, namespace: flags["namespace"], id: flags["id"]})
		}
	}
	return shims
}

// containerdCgroup matches the cgroups containerd 1.6 names for critest's
// pods and containers: critest asks a runtime without the RuntimeConfig
// call for the cgroup parent /test.slice, and containerd turns a .slice
// parent into "test.slice:cri-containerd:ID" whatever its cgroup driver,
// which cgroupfs then takes as a relative path: runc makes it at the root
// of each hierarchy, crun under the shim's own cgroup (memory, here).
var containerdCgroup = regexp.MustCompile(`^test\.slice:cri-containerd:[0-9a-f]{64}$`)

// containerdCgroupParents are the directories where containerd's pod
// cgroups appear: the root of each hierarchy and this process' own cgroup
// in it (which containerd and its shims inherit).
func containerdCgroupParents() []string {
	own := map[string]string{} // controller list -> path
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.SplitN(line, ":", 3); len(f) == 3 {
				own[strings.TrimPrefix(f[1], "name=")] = f[2]
			}
		}
	}
	var parents []string
	for _, root := range daemontest.CgroupDirs("") {
		parents = append(parents, root)
		ctrl := filepath.Base(root)
		if ctrl == "unified" || root == "/sys/fs/cgroup" {
			ctrl = "" // the v2 hierarchy: "0::/path"
		}
		if p, ok := own[ctrl]; ok && p != "/" {
			parents = append(parents, filepath.Join(root, p))
		}
	}
	return parents
}

// removeNewContainerdCgroups removes, at cleanup, the pod and container
// cgroups containerd made during the test, first killing by pid whatever
// still runs in them.
func removeNewContainerdCgroups(t *testing.T) {
	t.Helper()
	parents := containerdCgroupParents()
	list := func() []string {
		var found []string
		for _, p := range parents {
			entries, _ := os.ReadDir(p)
			for _, e := range entries {
				if e.IsDir() && containerdCgroup.MatchString(e.Name()) {
					found = append(found, filepath.Join(p, e.Name()))
				}
			}
		}
		return found
	}
	before := map[string]bool{}
	for _, c := range list() {
		before[c] = true
	}
	t.Cleanup(func() {
		var created []string
		for _, c := range list() {
			if !before[c] {
				created = append(created, c)
			}
		}
		if len(created) > 0 {
			t.Logf("cleanup: removing %d cgroups containerd's pods left", len(created))
		}
		killCgroupProcs(t, created)
		for _, c := range created {
			daemontest.RemoveCgroupTree(t, c)
		}
	})
}

// killCgroupProcs sends SIGKILL to every process in the cgroups (and
// their children) and waits up to 10s for them to be gone.
func killCgroupProcs(t *testing.T, cgroups []string) {
	procs := func() []int {
		var pids []int
		seen := map[int]bool{}
		for _, c := range cgroups {
			filepath.WalkDir(c, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.Name() == "cgroup.procs" {
					b, _ := os.ReadFile(p)
					for _, f := range strings.Fields(string(b)) {
						if pid, err := strconv.Atoi(f); err == nil && !seen[pid] {
							seen[pid] = true
							pids = append(pids, pid)
						}
					}
				}
				return nil
			})
		}
		return pids
	}
	pids := procs()
	if len(pids) == 0 {
		return
	}
	t.Errorf("cleanup: processes %v still run in containerd's pod cgroups; killing them", pids)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(procs()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
