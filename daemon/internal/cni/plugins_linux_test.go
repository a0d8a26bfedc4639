package cni

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
)

// writeScriptPlugin installs a shell CNI plugin that runs addBody for ADD
// and succeeds silently for everything else (DEL included).
func writeScriptPlugin(t *testing.T, name, addBody string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$CNI_COMMAND\" in\nADD)\n" + addBody + "\n;;\nesac\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assertNothingLeft checks that a failed Setup left no lease, no veth and
// no cached attachment.
func (e *bridgeEnv) assertNothingLeft(t *testing.T, id string) {
	t.Helper()
	if leases, _ := filepath.Glob(filepath.Join(e.dataDir, e.netName, "10.88.*")); len(leases) != 0 {
		t.Errorf("leases left after a failed Setup: %v", leases)
	}
	if ports := bridgePorts(t, e.bridge); len(ports) != 0 {
		t.Errorf("veths left after a failed Setup: %v", ports)
	}
	if atts, err := e.network.cachedConfigs(id); err != nil || len(atts) != 0 {
		t.Errorf("cached attachments after a failed Setup: %v, %v", atts, err)
	}
}

func TestFailingPluginIsReportedAndEarlierPluginsAreUndone(t *testing.T) {
	e := newBridgeEnv(t, chain{extra: []map[string]any{{"type": "rlt-refuse"}}})
	bin := writeScriptPlugin(t, "rlt-refuse",
		`echo '{"cniVersion":"1.0.0","code":100,"msg":"refused by the test plugin"}'; exit 1`)
	e.network = newNetwork(t, []string{bin, pluginDir}, e.confDir, WithCacheDir(e.cacheDir))
	id := podID(t)
	ns := newPodNS(t, id)

	_, err := e.network.Setup(context.Background(), PodNetwork{ID: id, NetNSPath: ns.Path()})
	if !errdefs.IsUnknown(err) || !strings.Contains(err.Error(), "refused by the test plugin") || !strings.Contains(err.Error(), id) {
		t.Fatalf("Setup = %v, want Unknown with the plugin's message and the pod id", err)
	}
	e.assertNothingLeft(t, id)
}

func TestHungPluginTimesOutAndEarlierPluginsAreUndone(t *testing.T) {
	e := newBridgeEnv(t, chain{extra: []map[string]any{{"type": "rlt-hang"}}})
	bin := writeScriptPlugin(t, "rlt-hang", "exec sleep 60")
	e.network = newNetwork(t, []string{bin, pluginDir}, e.confDir, WithCacheDir(e.cacheDir), WithPluginTimeout(time.Second))
	id := podID(t)
	ns := newPodNS(t, id)

	start := time.Now()
	_, err := e.network.Setup(context.Background(), PodNetwork{ID: id, NetNSPath: ns.Path()})
	if !errdefs.IsDeadlineExceeded(err) {
		t.Fatalf("Setup = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("Setup took %v with a 1s plugin timeout", took)
	}
	e.assertNothingLeft(t, id)
}

func TestCancelledSetupIsUndone(t *testing.T) {
	e := newBridgeEnv(t, chain{extra: []map[string]any{{"type": "rlt-hang"}}})
	bin := writeScriptPlugin(t, "rlt-hang", "exec sleep 60")
	e.network = newNetwork(t, []string{bin, pluginDir}, e.confDir, WithCacheDir(e.cacheDir))
	id := podID(t)
	ns := newPodNS(t, id)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	_, err := e.network.Setup(ctx, PodNetwork{ID: id, NetNSPath: ns.Path()})
	if !errdefs.IsDeadlineExceeded(err) {
		t.Fatalf("Setup with an expiring request context = %v, want DeadlineExceeded", err)
	}
	e.assertNothingLeft(t, id)
}

func TestSinglePluginConfFileSetsUpAndTearsDown(t *testing.T) {
	requireRoot(t)
	requirePlugins(t, "loopback")
	dir := t.TempDir()
	writeConfigFile(t, filepath.Join(dir, "99-lo.conf"), "lo-only")
	n := newNetwork(t, []string{pluginDir}, dir, WithCacheDir(t.TempDir()))
	id := podID(t)
	ns := newPodNS(t, id)
	pod := PodNetwork{ID: id, NetNSPath: ns.Path()}

	res, err := n.Setup(context.Background(), pod)
	if err != nil || res.Network != "lo-only" || len(res.IPs) != 0 {
		t.Fatalf("Setup = %+v, %v; want network lo-only and no pod IPs (lo's are not the pod's)", res, err)
	}
	if err := n.Teardown(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

func TestSetupRefusesPathThatIsNotALiveNamespaceAndRunsNoPlugin(t *testing.T) {
	e := newBridgeEnv(t, chain{})
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		path string
		is   func(error) bool
	}{
		"missing":    {filepath.Join(t.TempDir(), "gone"), errdefs.IsNotFound},
		"plain file": {plain, errdefs.IsInvalidArgument},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			id := podID(t)
			_, err := e.network.Setup(context.Background(), PodNetwork{ID: id, NetNSPath: c.path})
			if !c.is(err) {
				t.Fatalf("Setup = %v", err)
			}
			e.assertNothingLeft(t, id)
		})
	}
	if _, err := netlink.LinkByName(e.bridge); err == nil {
		t.Error("the bridge plugin ran: its bridge exists")
	}
	if _, err := os.Stat(filepath.Join(e.dataDir, e.netName)); err == nil {
		t.Error("host-local ran: its state dir exists")
	}
}

// TestPluginReceivesPodArgsAndCapabilitiesAndOnlyPodIPsAreReported runs a
// recording plugin: it saves its environment and stdin, and reports one IP
// on a host-side interface and one on the pod's eth0.
func TestPluginReceivesPodArgsAndCapabilitiesAndOnlyPodIPsAreReported(t *testing.T) {
	requireRoot(t)
	record := t.TempDir()
	bin := writeScriptPlugin(t, "rlt-record", `env > `+record+`/env; cat > `+record+`/stdin
echo '{"cniVersion":"1.0.0","interfaces":[{"name":"host-side"},{"name":"eth0","sandbox":"'"$CNI_NETNS"'"}],
"ips":[{"address":"10.88.77.1/24","interface":0},{"address":"10.88.77.5/24","interface":1}]}'`)
	conf := t.TempDir()
	writeJSON(t, filepath.Join(conf, "10-rec.conflist"), map[string]any{
		"cniVersion": "1.0.0", "name": "rec", "plugins": []any{map[string]any{"type": "rlt-record",
			"capabilities": map[string]bool{"portMappings": true, "io.kubernetes.cri.pod-annotations": true}}},
	})
	n := newNetwork(t, []string{bin}, conf, WithCacheDir(t.TempDir()))
	ns := newPodNS(t, "rec-pod")
	pod := PodNetwork{ID: "rec-pod", NetNSPath: ns.Path(), Name: "web-0", Namespace: "shop", UID: "1234-abcd",
		PortMappings: []PortMapping{{Protocol: "UDP", ContainerPort: 53, HostPort: 5353, HostIP: "127.0.0.1"}},
		Annotations:  map[string]string{"team": "net"}}

	res, err := n.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Teardown(context.Background(), pod) })
	if len(res.IPs) != 1 || res.IPs[0].String() != "10.88.77.5" {
		t.Fatalf("pod IPs %v, want only 10.88.77.5 (the host-side IP is not the pod's)", res.IPs)
	}
	env := readFile(t, filepath.Join(record, "env"))
	for _, want := range []string{
		"CNI_COMMAND=ADD", "CNI_CONTAINERID=rec-pod", "CNI_IFNAME=eth0", "CNI_NETNS=" + ns.Path(), "CNI_PATH=" + bin,
		"CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=rec-pod;K8S_POD_UID=1234-abcd",
	} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("plugin environment lacks %s:\n%s", want, env)
		}
	}
	var stdin struct {
		RuntimeConfig struct {
			PortMappings []portMapEntry    `json:"portMappings"`
			Annotations  map[string]string `json:"io.kubernetes.cri.pod-annotations"`
		} `json:"runtimeConfig"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(record, "stdin"))), &stdin); err != nil {
		t.Fatal(err)
	}
	wantPorts := []portMapEntry{{HostPort: 5353, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"}}
	if !slices.Equal(stdin.RuntimeConfig.PortMappings, wantPorts) || stdin.RuntimeConfig.Annotations["team"] != "net" {
		t.Fatalf("runtimeConfig = %+v, want port mappings %+v and the annotations", stdin.RuntimeConfig, wantPorts)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
