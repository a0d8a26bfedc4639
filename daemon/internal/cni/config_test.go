package cni

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

// loopbackOnlyPod needs no namespace: with no config nothing enters it.
func loopbackOnlyPod() PodNetwork {
	return PodNetwork{ID: "pod-lo", NetNSPath: "/run/runlet/netns/pod-lo", Name: "p", Namespace: "default", UID: "u"}
}

func TestWithoutConfigPodsGetLoopbackOnlyAndNetworkIsReady(t *testing.T) {
	withJunk := t.TempDir()
	if err := os.WriteFile(filepath.Join(withJunk, "README.md"), []byte("not a config"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(withJunk, "sub.conflist"), 0o700); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{
		"missing dir":         filepath.Join(t.TempDir(), "absent"),
		"empty dir":           t.TempDir(),
		"dir without configs": withJunk,
		"no dir configured":   "",
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			n := newNetwork(t, []string{"/usr/lib/cni"}, dir, WithCacheDir(t.TempDir()))
			res, err := n.Setup(context.Background(), loopbackOnlyPod())
			if err != nil || len(res.IPs) != 0 || res.Network != "" {
				t.Fatalf("Setup = %+v, %v; want no IPs, no network, no error", res, err)
			}
			if err := n.Teardown(context.Background(), loopbackOnlyPod()); err != nil {
				t.Fatalf("Teardown: %v", err)
			}
			st := n.Status(context.Background())
			if !st.Ready || st.Reason != ReasonLoopbackOnly || !strings.Contains(st.Message, "loopback only") {
				t.Fatalf("Status = %+v, want ready with reason %s", st, ReasonLoopbackOnly)
			}
		})
	}
}

func TestBrokenConfigFailsSetupAndStatusNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "10-broken.conflist")
	if err := os.WriteFile(broken, []byte(`{"cniVersion": "1.0.0", "name": `), 0o600); err != nil {
		t.Fatal(err)
	}
	// A valid config sorting later is not used instead.
	writeJSON(t, filepath.Join(dir, "20-good.conflist"), map[string]any{
		"cniVersion": "1.0.0", "name": "good", "plugins": []any{map[string]any{"type": "loopback"}},
	})
	n := newNetwork(t, []string{"/usr/lib/cni"}, dir, WithCacheDir(t.TempDir()))
	pod := loopbackOnlyPod()

	_, err := n.Setup(context.Background(), pod)
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), broken) {
		t.Fatalf("Setup = %v, want FailedPrecondition naming %s", err, broken)
	}
	if err := n.Teardown(context.Background(), pod); err != nil {
		t.Fatalf("Teardown of a pod whose Setup failed = %v, want nil (nothing to undo)", err)
	}
	st := n.Status(context.Background())
	if st.Ready || st.Reason != ReasonConfigInvalid || !strings.Contains(st.Message, broken) {
		t.Fatalf("Status = %+v, want not ready, %s, naming %s", st, ReasonConfigInvalid, broken)
	}
}

func TestConfigWithoutPluginsOrTypeIsInvalid(t *testing.T) {
	files := map[string]string{
		"10-empty.conflist": `{"cniVersion": "1.0.0", "name": "empty", "plugins": []}`,
		"10-notype.conf":    `{"cniVersion": "1.0.0", "name": "notype"}`,
		"10-notjson.json":   `cniVersion = 1`,
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			n := newNetwork(t, []string{"/usr/lib/cni"}, dir)
			st := n.Status(context.Background())
			if st.Ready || st.Reason != ReasonConfigInvalid || !strings.Contains(st.Message, name) {
				t.Fatalf("Status = %+v, want %s naming %s", st, ReasonConfigInvalid, name)
			}
		})
	}
}

func TestMissingPluginMakesNetworkNotReadyAndSetupFail(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "10-net.conflist"), map[string]any{
		"cniVersion": "1.0.0", "name": "net", "plugins": []any{map[string]any{"type": "rlt-no-such-plugin"}},
	})
	n := newNetwork(t, []string{t.TempDir()}, dir, WithCacheDir(t.TempDir()))

	st := n.Status(context.Background())
	if st.Ready || st.Reason != ReasonPluginNotFound || !strings.Contains(st.Message, "rlt-no-such-plugin") || st.Network != "net" {
		t.Fatalf("Status = %+v, want not ready, %s, naming the plugin", st, ReasonPluginNotFound)
	}
	if _, err := n.Setup(context.Background(), loopbackOnlyPod()); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Setup = %v, want FailedPrecondition", err)
	}
}

// TestFirstConfigByNameIsUsedAndChangesApplyWithoutRestart proves the
// kubelet/containerd ordering (.conf, .conflist and .json sorted together)
// and that the dir is re-read on every call.
func TestFirstConfigByNameIsUsedAndChangesApplyWithoutRestart(t *testing.T) {
	requirePlugins(t, "loopback")
	dir := t.TempDir()
	n := newNetwork(t, []string{pluginDir}, dir)
	steps := []struct{ file, network string }{
		{"20-b.conflist", "b"},
		{"10-a.conf", "a"},
		{"05-c.json", "c"},
	}
	for _, s := range steps {
		writeConfigFile(t, filepath.Join(dir, s.file), s.network)
		st := n.Status(context.Background())
		if !st.Ready || st.Network != s.network || st.ConfigFile != filepath.Join(dir, s.file) {
			t.Fatalf("after adding %s: Status = %+v, want ready on network %q", s.file, st, s.network)
		}
	}
	for _, s := range steps {
		if err := os.Remove(filepath.Join(dir, s.file)); err != nil {
			t.Fatal(err)
		}
	}
	if st := n.Status(context.Background()); st.Reason != ReasonLoopbackOnly {
		t.Fatalf("after removing every config: Status = %+v, want %s", st, ReasonLoopbackOnly)
	}
}

// writeConfigFile writes a loopback network as a list (.conflist) or as a
// single plugin config (.conf, .json).
func writeConfigFile(t *testing.T, path, network string) {
	t.Helper()
	plugin := map[string]any{"type": "loopback"}
	if filepath.Ext(path) == ".conflist" {
		writeJSON(t, path, map[string]any{"cniVersion": "1.0.0", "name": network, "plugins": []any{plugin}})
		return
	}
	plugin["cniVersion"], plugin["name"] = "1.0.0", network
	writeJSON(t, path, plugin)
}

func TestInvalidPodNetworkIsInvalidArgument(t *testing.T) {
	n := newNetwork(t, []string{"/usr/lib/cni"}, t.TempDir())
	ok := loopbackOnlyPod()
	cases := map[string]func(*PodNetwork){
		"id with slash":      func(p *PodNetwork) { p.ID = "../../etc" },
		"empty id":           func(p *PodNetwork) { p.ID = "" },
		"relative netns":     func(p *PodNetwork) { p.NetNSPath = "netns/pod" },
		"host network":       func(p *PodNetwork) { p.NetNSPath = "" },
		"name with ;":        func(p *PodNetwork) { p.Name = "a;K8S_POD_UID=x" },
		"protocol icmp":      func(p *PodNetwork) { p.PortMappings = []PortMapping{{Protocol: "icmp", ContainerPort: 1}} },
		"container port 0":   func(p *PodNetwork) { p.PortMappings = []PortMapping{{ContainerPort: 0, HostPort: 80}} },
		"host port too high": func(p *PodNetwork) { p.PortMappings = []PortMapping{{ContainerPort: 80, HostPort: 70000}} },
		"host IP a name": func(p *PodNetwork) {
			p.PortMappings = []PortMapping{{ContainerPort: 80, HostPort: 80, HostIP: "localhost"}}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			pod := ok
			mutate(&pod)
			if _, err := n.Setup(context.Background(), pod); !errdefs.IsInvalidArgument(err) {
				t.Fatalf("Setup = %v, want InvalidArgument", err)
			}
		})
	}
}

func TestNewRejectsRelativeDirsAndBadTimeout(t *testing.T) {
	cases := map[string]func() error{
		"relative bin dir":   func() error { _, err := New([]string{"cni/bin"}, "/etc/cni/net.d"); return err },
		"relative conf dir":  func() error { _, err := New([]string{"/usr/lib/cni"}, "net.d"); return err },
		"relative cache dir": func() error { _, err := New(nil, "", WithCacheDir("cache")); return err },
		"zero timeout":       func() error { _, err := New(nil, "", WithPluginTimeout(0)); return err },
	}
	for name, call := range cases {
		if err := call(); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: New = %v, want InvalidArgument", name, err)
		}
	}
}

func TestCapabilitiesCarryHostPortsOnlyWithLowercaseProtocols(t *testing.T) {
	pod := PodNetwork{PortMappings: []PortMapping{
		{Protocol: "TCP", ContainerPort: 80, HostPort: 8080, HostIP: "127.0.0.1"},
		{Protocol: "", ContainerPort: 81, HostPort: 8081},
		{Protocol: "UDP", ContainerPort: 53, HostPort: 0},
		{Protocol: "SCTP", ContainerPort: 9, HostPort: 9},
	}, Annotations: map[string]string{"a": "b"}}
	caps := pod.capabilities()
	got, _ := caps["portMappings"].([]portMapEntry)
	want := []portMapEntry{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1"},
		{HostPort: 8081, ContainerPort: 81, Protocol: "tcp"},
		{HostPort: 9, ContainerPort: 9, Protocol: "sctp"},
	}
	if len(got) != len(want) {
		t.Fatalf("portMappings = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("portMappings[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if a, _ := caps["io.kubernetes.cri.pod-annotations"].(map[string]string); a["a"] != "b" {
		t.Fatalf("annotations capability = %v", caps["io.kubernetes.cri.pod-annotations"])
	}
	if caps := (PodNetwork{}).capabilities(); len(caps) != 0 {
		t.Fatalf("a pod without ports or annotations has capabilities %v", caps)
	}
}
