package cni

import (
	"context"
	"os"
	"path/filepath"
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
