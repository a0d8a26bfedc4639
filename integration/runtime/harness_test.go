package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// containerdShim is Debian's containerd 1.6 shim, a third-party handler.
const containerdShim = "/usr/bin/containerd-shim-runc-v2"

// fixture is a runletd with runlet's runc (default) and crun handlers,
// containerd's shim as "containerd-runc" when installed, and no CNI
// config (pods get loopback only).
type fixture struct {
	*daemontest.Daemon
	handlers []string
	cgroup   string // the pods' cgroup parent, removed at cleanup
}

func start(t *testing.T) *fixture {
	t.Helper()
	return startExtra(t, "")
}

// startExtra is start with more TOML (tables only).
func startExtra(t *testing.T, extraTOML string) *fixture {
	t.Helper()
	return startNetwork(t, extraTOML, "")
}

// startNetwork is startExtra with more keys in [network].
func startNetwork(t *testing.T, extraTOML, networkTOML string) *fixture {
	t.Helper()
	daemontest.NeedRoot(t)
	dir := daemontest.ShortTempDir(t)
	extra := extraTOML + "[network]\ncni_conf_dir = \"" + filepath.Join(dir, "net.d") + "\"\n" + networkTOML
	handlers := []string{"", "crun"}
	if _, err := os.Stat(containerdShim); err == nil {
		extra += "[runtimes.containerd-runc]\nshim = \"" + containerdShim + "\"\n"
		handlers = append(handlers, "containerd-runc")
	}
	f := &fixture{Daemon: daemontest.StartIn(t, dir, extra), handlers: handlers, cgroup: "/runlet-it-" + randomHex(4)}
	t.Cleanup(func() { removeCgroup(t, f.cgroup) })
	t.Cleanup(func() {
		if t.Failed() && !f.Proc.Exited() {
			f.Crictl(t, "rmp", "-af") // what a failed test left; runs before the cgroup's removal
		}
	})
	return f
}

// podConfig writes a pod config for crictl and returns its path.
func (f *fixture) podConfig(t *testing.T, name string) string {
	t.Helper()
	cfg := map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "it", "uid": randomHex(8), "attempt": 0},
		"hostname":      name,
		"log_directory": filepath.Join(f.Dir, "logs", name),
		"dns_config":    map[string]any{"servers": []string{"127.0.0.53"}},
		"linux":         map[string]any{"cgroup_parent": f.cgroup},
	}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(f.Dir, name+"-pod.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runp starts a pod with a handler ("" is the default) and returns its id.
func (f *fixture) runp(t *testing.T, name, handler string) string {
	t.Helper()
	args := []string{"runp"}
	if handler != "" {
		args = append(args, "--runtime", handler)
	}
	return strings.TrimSpace(f.MustCrictl(t, append(args, f.podConfig(t, name))...))
}

// inspectp returns a pod's status and verbose info.
func (f *fixture) inspectp(t *testing.T, id string) (state string, info map[string]any) {
	t.Helper()
	var out struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
		Info map[string]any `json:"info"`
	}
	if err := json.Unmarshal([]byte(f.MustCrictl(t, "inspectp", id)), &out); err != nil {
		t.Fatal(err)
	}
	return out.Status.State, out.Info
}

// removeCgroup removes the pods' cgroup parent in every hierarchy (runc
// removes each pod's own cgroup, not the parent).
func removeCgroup(t testing.TB, parent string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", parent))
	if st, err := os.Stat(filepath.Join("/sys/fs/cgroup/unified", parent)); err == nil && st.IsDir() {
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup/unified", parent))
	}
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
			t.Errorf("cgroup left: %v", err)
		}
	}
}

// assertNothingLeft checks the daemon's state holds no pod's files,
// netns, bundle or mount.
func (f *fixture) assertNothingLeft(t *testing.T) {
	t.Helper()
	for _, sub := range []string{"sandboxes", "netns", "bundles/k8s.io", "fifo"} {
		entries, _ := os.ReadDir(filepath.Join(f.State, sub))
		if len(entries) != 0 {
			t.Errorf("%s still holds %d entries", sub, len(entries))
		}
	}
	if m := daemontest.MountsUnder(f.Dir); len(m) != 0 {
		t.Errorf("mounts left: %v", m)
	}
	daemontest.WaitFor(t, 10*time.Second, "the pods' shims to exit", func() bool { return len(f.shims()) == 0 })
}

// shims lists the live shim processes started for this daemon (their
// -address is its socket).
func (f *fixture) shims() []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), "\x00-address\x00"+f.Sock+"\x00") && running(atoi(e.Name())) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
