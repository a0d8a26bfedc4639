package cni

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"

	"github.com/runlet/runlet/daemon/internal/netns"
)

// servePod answers every TCP connection to the returned port inside the
// namespace with msg, until cleanup.
func servePod(t *testing.T, ns *netns.NetNS, msg string) int {
	t.Helper()
	var l net.Listener
	if err := ns.Do(func() (err error) {
		l, err = net.Listen("tcp4", ":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, msg)
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// fetchTimeout bounds one fetch; generous, as the machine may be busy.
const fetchTimeout = 15 * time.Second

// fetch connects from the caller's namespace and reads until EOF.
func fetch(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, fetchTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(fetchTimeout)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func natRules(t *testing.T) string {
	t.Helper()
	out, err := iptTable{"iptables", "nat"}.run("-S")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func natChains(t *testing.T) map[string]bool {
	t.Helper()
	return iptTable{"iptables", "nat"}.chains(t)
}

// newChains are the per-pod CNI-DN-* nat chains that appeared since
// before; other processes' pods do not count.
func newChains(t *testing.T, before map[string]bool) []string {
	t.Helper()
	var added []string
	for c := range natChains(t) {
		if strings.HasPrefix(c, "CNI-DN-") && !before[c] {
			added = append(added, c)
		}
	}
	return added
}

func bridgePorts(t *testing.T, bridge string) []string {
	t.Helper()
	br, err := netlink.LinkByName(bridge)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil // no bridge, no ports
	}
	if err != nil {
		t.Fatalf("bridge %s: %v", bridge, err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var ports []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			ports = append(ports, l.Attrs().Name)
		}
	}
	return ports
}

func (e *bridgeEnv) leaseFile(ip net.IP) string {
	return filepath.Join(e.dataDir, e.netName, ip.String())
}

func TestSetupGivesPodAnIPInSubnetAndDefaultRouteViaBridge(t *testing.T) {
	e := newBridgeEnv(t, chain{})
	id := podID(t)
	_, ns, res := e.setupPod(t, id)

	if len(res.IPs) != 1 || !e.subnet.Contains(res.IPs[0]) {
		t.Fatalf("pod IPs %v, want one in %s", res.IPs, e.subnet)
	}
	if res.Network != e.netName || res.ConfigFile != filepath.Join(e.confDir, "10-test.conflist") {
		t.Fatalf("result names network %q from %q", res.Network, res.ConfigFile)
	}
	var hasAddr, hasDefault bool
	err := ns.Do(func() error {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(eth0, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			hasAddr = hasAddr || a.IP.Equal(res.IPs[0])
		}
		routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
		for _, r := range routes {
			isDefault := r.Dst == nil || r.Dst.IP.IsUnspecified()
			hasDefault = hasDefault || (isDefault && r.Gw.Equal(e.gateway))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !hasAddr || !hasDefault {
		t.Fatalf("inside the pod: eth0 has %s: %v; default route via %s: %v", res.IPs[0], hasAddr, e.gateway, hasDefault)
	}
	if _, err := os.Stat(e.leaseFile(res.IPs[0])); err != nil {
		t.Fatalf("host-local holds no lease for the pod: %v", err)
	}
}

func TestPodServerIsReachableFromHostAtPodIP(t *testing.T) {
	e := newBridgeEnv(t, chain{})
	id := podID(t)
	_, ns, res := e.setupPod(t, id)
	port := servePod(t, ns, "hello from "+id)

	got, err := fetch(net.JoinHostPort(res.IPs[0].String(), strconv.Itoa(port)))
	if err != nil || got != "hello from "+id {
		t.Fatalf("fetch from pod IP = %q, %v", got, err)
	}
}

func TestHostPortOnLoopbackForwardsToPod(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true})
	id := podID(t)
	ns := newPodNS(t, id)
	containerPort := servePod(t, ns, "mapped "+id)
	hostPort := freeLoopbackPort(t)
	pod := PodNetwork{ID: id, NetNSPath: ns.Path(), Name: "web", Namespace: "default", UID: "u1",
		PortMappings: []PortMapping{{Protocol: "TCP", ContainerPort: int32(containerPort), HostPort: int32(hostPort), HostIP: "127.0.0.1"}}}
	if _, err := e.network.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.network.Teardown(context.Background(), pod) })

	got, err := fetch(net.JoinHostPort("127.0.0.1", strconv.Itoa(hostPort)))
	if err != nil || got != "mapped "+id {
		t.Fatalf("fetch 127.0.0.1:%d = %q, %v; nat rules:\n%s", hostPort, got, err, natRules(t))
	}
}

// freeLoopbackPort is a TCP port nothing listens on at 127.0.0.1 now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestTeardownRemovesVethLeaseCacheAndPortmapRules(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true})
	id := podID(t)
	chainsBefore := natChains(t)
	pod, ns, res := e.setupPod(t, id, PortMapping{ContainerPort: 8080, HostPort: int32(freeLoopbackPort(t)), HostIP: "127.0.0.1"})
	if !strings.Contains(natRules(t), id) || len(bridgePorts(t, e.bridge)) != 1 {
		t.Fatalf("after Setup: want portmap rules naming %s and one veth on %s", id, e.bridge)
	}

	if err := e.network.Teardown(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if ports := bridgePorts(t, e.bridge); len(ports) != 0 {
		t.Errorf("veths left on the bridge: %v", ports)
	}
	if _, err := os.Stat(e.leaseFile(res.IPs[0])); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("host-local lease of %s still there: %v", res.IPs[0], err)
	}
	if rules, added := natRules(t), newChains(t, chainsBefore); strings.Contains(rules, id) || len(added) != 0 {
		t.Errorf("portmap rules of the pod left:\n%s", rules)
	}
	if left, _ := os.ReadDir(filepath.Join(e.cacheDir, "results")); len(left) != 0 {
		t.Errorf("libcni cache entries left: %v", left)
	}
	if err := ns.Do(func() error { _, err := netlink.LinkByName("eth0"); return err }); err == nil {
		t.Error("eth0 still inside the pod namespace")
	}
}

func TestTeardownTwiceSucceeds(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true})
	pod, _, _ := e.setupPod(t, podID(t))
	for i := range 2 {
		if err := e.network.Teardown(context.Background(), pod); err != nil {
			t.Fatalf("Teardown #%d: %v", i+1, err)
		}
	}
}

func TestTeardownAfterNamespaceRemovedFreesEverything(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true})
	id := podID(t)
	pod, ns, res := e.setupPod(t, id, PortMapping{ContainerPort: 80, HostPort: int32(freeLoopbackPort(t)), HostIP: "127.0.0.1"})
	if err := ns.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}

	if err := e.network.Teardown(context.Background(), pod); err != nil {
		t.Fatalf("Teardown with the namespace gone: %v", err)
	}
	if _, err := os.Stat(e.leaseFile(res.IPs[0])); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lease of %s kept: %v", res.IPs[0], err)
	}
	if strings.Contains(natRules(t), id) {
		t.Errorf("portmap rules of %s kept", id)
	}
	waitNoBridgePorts(t, e.bridge)
}

// waitNoBridgePorts waits for the kernel to destroy the veth of a
// namespace that was freed. That happens asynchronously, in a kernel
// worker that serializes all namespace teardowns, so it can take seconds
// on a machine busy with containers.
func waitNoBridgePorts(t *testing.T, bridge string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(bridgePorts(t, bridge)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("veths left on %s: %v", bridge, bridgePorts(t, bridge))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSetupOfAttachedPodIsAlreadyExistsAndKeepsItsNetwork(t *testing.T) {
	e := newBridgeEnv(t, chain{})
	pod, ns, res := e.setupPod(t, podID(t))
	port := servePod(t, ns, "still here")

	_, err := e.network.Setup(context.Background(), pod)
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second Setup = %v, want AlreadyExists", err)
	}
	got, err := fetch(net.JoinHostPort(res.IPs[0].String(), strconv.Itoa(port)))
	if err != nil || got != "still here" {
		t.Fatalf("pod unreachable after the refused second Setup: %q, %v", got, err)
	}
}

func TestTwoPodsGetDistinctIPsAndReachEachOther(t *testing.T) {
	e := newBridgeEnv(t, chain{})
	_, nsA, resA := e.setupPod(t, podID(t))
	_, nsB, resB := e.setupPod(t, podID(t))
	if resA.IPs[0].Equal(resB.IPs[0]) {
		t.Fatalf("both pods got %s", resA.IPs[0])
	}
	port := servePod(t, nsB, "from B")
	var got string
	err := nsA.Do(func() (err error) {
		got, err = fetch(net.JoinHostPort(resB.IPs[0].String(), strconv.Itoa(port)))
		return err
	})
	if err != nil || got != "from B" {
		t.Fatalf("pod A to pod B = %q, %v", got, err)
	}
}

// TestDocumentedChainWithMasqueradeSetsUpAndCleansUp runs the chain the
// package doc recommends (bridge with ipMasq, host-local, portmap) on a
// bridge and subnet of its own; no traffic leaves the test bridge.
func TestDocumentedChainWithMasqueradeSetsUpAndCleansUp(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true, ipMasq: true})
	id := podID(t)
	pod, ns, res := e.setupPod(t, id, PortMapping{Protocol: "tcp", ContainerPort: 80, HostPort: int32(freeLoopbackPort(t)), HostIP: "127.0.0.1"})
	port := servePod(t, ns, "masq "+id)
	if got, err := fetch(net.JoinHostPort(res.IPs[0].String(), strconv.Itoa(port))); err != nil || got != "masq "+id {
		t.Fatalf("fetch from pod IP = %q, %v", got, err)
	}
	if !strings.Contains(natRules(t), "MASQUERADE") {
		t.Fatal("ipMasq added no masquerade rule")
	}

	if err := e.network.Teardown(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if rules := natRules(t); strings.Contains(rules, id) {
		t.Errorf("rules naming the pod left after Teardown:\n%s", rules)
	}
}

func TestTeardownUsesConfigCachedAtSetupAfterConfigIsBroken(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true})
	id := podID(t)
	pod, _, res := e.setupPod(t, id, PortMapping{ContainerPort: 80, HostPort: int32(freeLoopbackPort(t)), HostIP: "127.0.0.1"})
	conf := filepath.Join(e.confDir, "10-test.conflist")
	if err := os.WriteFile(conf, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := e.network.Teardown(context.Background(), pod); err != nil {
		t.Fatalf("Teardown after the config broke: %v", err)
	}
	if _, err := os.Stat(e.leaseFile(res.IPs[0])); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lease of %s kept: %v", res.IPs[0], err)
	}
	if ports := bridgePorts(t, e.bridge); len(ports) != 0 {
		t.Errorf("veths left: %v", ports)
	}
	if strings.Contains(natRules(t), id) {
		t.Errorf("portmap rules of %s kept", id)
	}
}

// TestAttachedReportsIPsAfterRestartUntilTeardown stands for a runletd
// restart: a new Network on the same cache dir reports what Setup gave.
func TestAttachedReportsIPsAfterRestartUntilTeardown(t *testing.T) {
	e := newBridgeEnv(t, chain{})
	pod, _, res := e.setupPod(t, podID(t))
	restarted := newNetwork(t, []string{pluginDir}, e.confDir, WithCacheDir(e.cacheDir))

	got, ok, err := restarted.Attached(context.Background(), pod.ID)
	if err != nil || !ok || len(got.IPs) != 1 || !got.IPs[0].Equal(res.IPs[0]) || got.Network != e.netName {
		t.Fatalf("Attached = %+v, %v, %v; want IP %s on %s", got, ok, err, res.IPs[0], e.netName)
	}
	if err := restarted.Teardown(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := restarted.Attached(context.Background(), pod.ID); err != nil || ok {
		t.Fatalf("Attached after Teardown = %+v, %v, %v; want not attached", got, ok, err)
	}
}

func TestConcurrentSetupsGetDistinctIPsAndAllTearDown(t *testing.T) {
	e := newBridgeEnv(t, chain{portmap: true})
	chainsBefore := natChains(t)
	const pods = 8
	var nss [pods]*netns.NetNS
	var hostPorts [pods]int32
	for i := range nss {
		nss[i] = newPodNS(t, fmt.Sprintf("conc-%d", i))
		hostPorts[i] = int32(freeLoopbackPort(t))
	}
	var wg sync.WaitGroup
	results := make([]*Result, pods)
	errs := make([]error, pods)
	for i := range pods {
		wg.Go(func() {
			pod := PodNetwork{ID: fmt.Sprintf("conc-%d", i), NetNSPath: nss[i].Path(),
				PortMappings: []PortMapping{{ContainerPort: 80, HostPort: hostPorts[i], HostIP: "127.0.0.1"}}}
			results[i], errs[i] = e.network.Setup(context.Background(), pod)
			t.Cleanup(func() { _ = e.network.Teardown(context.Background(), pod) })
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range pods {
		if errs[i] != nil {
			t.Fatalf("Setup conc-%d: %v", i, errs[i])
		}
		ip := results[i].IPs[0].String()
		if seen[ip] {
			t.Fatalf("IP %s given twice", ip)
		}
		seen[ip] = true
	}

	for i := range pods {
		wg.Go(func() {
			errs[i] = e.network.Teardown(context.Background(), PodNetwork{ID: fmt.Sprintf("conc-%d", i), NetNSPath: nss[i].Path()})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Teardown conc-%d: %v", i, err)
		}
	}
	if leases, _ := filepath.Glob(filepath.Join(e.dataDir, e.netName, "10.88.*")); len(leases) != 0 {
		t.Errorf("leases left: %v", leases)
	}
	if added := newChains(t, chainsBefore); len(added) != 0 {
		t.Errorf("chains left: %v", added)
	}
}

func TestDualStackPodGetsIPv4FirstThenIPv6(t *testing.T) {
	e := newBridgeEnv(t, chain{ipv6: true})
	_, _, res := e.setupPod(t, podID(t))

	if len(res.IPs) != 2 || !e.subnet.Contains(res.IPs[0]) || !e.subnet6.Contains(res.IPs[1]) {
		t.Fatalf("pod IPs %v, want one in %s then one in %s", res.IPs, e.subnet, e.subnet6)
	}
}
