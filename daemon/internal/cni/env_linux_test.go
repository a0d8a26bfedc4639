package cni

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/runlet/runlet/daemon/internal/netns"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("creates bridges, namespaces and iptables rules; skipped under -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// bridgeEnv is a CNI network on a bridge of its own with a private /24 and
// host-local state in a temp dir; everything it creates on the host is
// removed at cleanup.
type bridgeEnv struct {
	netName  string
	bridge   string
	subnet   *net.IPNet
	subnet6  *net.IPNet // nil unless the chain is dual-stack
	gateway  net.IP
	dataDir  string // host-local's state
	confDir  string
	cacheDir string // libcni's cache
	network  *Network
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// chain says which plugins follow bridge + host-local in a test's conflist.
type chain struct {
	portmap bool             // portmap with the portMappings capability
	ipMasq  bool             // the bridge masquerades the pod subnet
	ipv6    bool             // a ULA /64 too, listed before the IPv4 range
	extra   []map[string]any // more plugin configs, appended last
}

// newBridgeEnv writes a bridge + host-local conflist completed by c and a
// Network on it.
func newBridgeEnv(t *testing.T, c chain) *bridgeEnv {
	t.Helper()
	requireRoot(t)
	requirePlugins(t, "bridge", "host-local", "portmap")
	suffix := randomHex(t, 4)
	e := &bridgeEnv{
		netName:  "rlt-test-" + suffix,
		bridge:   "rlt" + suffix,
		dataDir:  t.TempDir(),
		confDir:  t.TempDir(),
		cacheDir: t.TempDir(),
	}
	e.subnet, e.gateway = freeTestSubnet(t)
	ranges := [][]map[string]string{{{"subnet": e.subnet.String()}}}
	if c.ipv6 {
		e.subnet6 = freeTestSubnet6(t)
		ranges = append([][]map[string]string{{{"subnet": e.subnet6.String()}}}, ranges...)
	}
	restoreHostNetworkState(t)
	t.Cleanup(func() { deleteLink(t, e.bridge) })

	plugins := []any{map[string]any{
		"type": "bridge", "bridge": e.bridge, "isGateway": true, "ipMasq": c.ipMasq,
		"ipam": map[string]any{
			"type": "host-local", "dataDir": e.dataDir,
			"ranges": ranges,
			"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
		},
	}}
	if c.portmap {
		plugins = append(plugins, map[string]any{"type": "portmap", "snat": true, "capabilities": map[string]bool{"portMappings": true}})
	}
	for _, p := range c.extra {
		plugins = append(plugins, p)
	}
	writeJSON(t, filepath.Join(e.confDir, "10-test.conflist"), map[string]any{
		"cniVersion": "1.0.0", "name": e.netName, "plugins": plugins,
	})
	e.network = newNetwork(t, []string{pluginDir}, e.confDir, WithCacheDir(e.cacheDir))
	return e
}

// freeTestSubnet picks 10.88.X.0/24 overlapping no route of the host.
func freeTestSubnet(t *testing.T) (*net.IPNet, net.IP) {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		x := 1 + mrand.IntN(254)
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.88.%d.0/24", x))
		if !overlapsAny(subnet, routes) {
			return subnet, net.IPv4(10, 88, byte(x), 1).To4()
		}
	}
	t.Fatal("no free 10.88.X.0/24 subnet")
	return nil, nil
}

// freeTestSubnet6 picks fd88:X:Y::/64 overlapping no IPv6 route of the host.
func freeTestSubnet6(t *testing.T) *net.IPNet {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("fd88:%x:%x::/64", mrand.IntN(1<<16), mrand.IntN(1<<16)))
		if !overlapsAny(subnet, routes) {
			return subnet
		}
	}
	t.Fatal("no free fd88:X:Y::/64 subnet")
	return nil
}

func overlapsAny(subnet *net.IPNet, routes []netlink.Route) bool {
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if ones, _ := r.Dst.Mask.Size(); ones == 0 {
			continue
		}
		if r.Dst.Contains(subnet.IP) || subnet.Contains(r.Dst.IP) {
			return true
		}
	}
	return false
}

func deleteLink(t *testing.T, name string) {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		return
	}
	if err := netlink.LinkDel(l); err != nil {
		t.Errorf("cleanup: delete link %s: %v", name, err)
	}
}

// restoreHostNetworkState puts back, at cleanup, what the bridge and
// portmap plugins change outside their own links: forwarding (the bridge
// plugin turns it on for a gateway; that also rewrites every interface's
// forwarding) and the CNI iptables chains this test created. Two copies of
// these tests running at once on one host (two go test runs of this
// package) confuse each other's snapshots: run one at a time.
func restoreHostNetworkState(t *testing.T) {
	t.Helper()
	chains := snapshotChains(t)
	sysctls := snapshotForwarding(t)
	t.Cleanup(func() { removeNewChains(t, chains) })
	t.Cleanup(func() { restoreSysctls(t, sysctls) })
}

func snapshotForwarding(t *testing.T) map[string]string {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/*/forwarding", "/proc/sys/net/ipv6/conf/*/forwarding"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, matches...)
	}
	values := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		values[p] = strings.TrimSpace(string(b))
	}
	return values
}

// forwardingMasters are the sysctls whose writing resets the forwarding of
// every interface of their family; they are restored first.
var forwardingMasters = []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"}

// restoreSysctls writes the masters first, then puts back each interface's
// own value.
func restoreSysctls(t *testing.T, values map[string]string) {
	t.Helper()
	for _, p := range forwardingMasters {
		if v, ok := values[p]; ok {
			writeSysctl(t, p, v)
		}
	}
	for p, v := range values {
		if slices.Contains(forwardingMasters, p) {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			continue // the interface went away
		}
		writeSysctl(t, p, v)
	}
}

func writeSysctl(t *testing.T, path, value string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == value {
		return
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		t.Errorf("cleanup: restore %s=%s: %v", path, value, err)
	}
}

// iptTable is one iptables binary and table.
type iptTable struct{ bin, table string }

var iptTables = []iptTable{{"iptables", "nat"}, {"iptables", "filter"}, {"ip6tables", "nat"}, {"ip6tables", "filter"}}

func (x iptTable) run(args ...string) (string, error) {
	full := append([]string{"-w", "-t", x.table}, args...)
	out, err := exec.CommandContext(context.Background(), x.bin, full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", x.bin, strings.Join(full, " "), err, out)
	}
	return string(out), nil
}

func (x iptTable) chains(t *testing.T) map[string]bool {
	t.Helper()
	out, err := x.run("-S")
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "-N" {
			chains[f[1]] = true
		}
	}
	return chains
}

func snapshotChains(t *testing.T) map[iptTable]map[string]bool {
	t.Helper()
	snap := map[iptTable]map[string]bool{}
	for _, x := range iptTables {
		if _, err := exec.LookPath(x.bin); err == nil {
			snap[x] = x.chains(t)
		}
	}
	return snap
}

// removeNewChains deletes the chains that appeared since the snapshot
// (portmap's shared CNI-HOSTPORT-* chains) and the rules jumping to them,
// but only while no pod's CNI-DN-* chain remains in that table: a pod
// still using them, ours or anyone's, keeps them.
func removeNewChains(t *testing.T, before map[iptTable]map[string]bool) {
	t.Helper()
	for x, old := range before {
		var created []string
		inUse := false
		for c := range x.chains(t) {
			inUse = inUse || strings.HasPrefix(c, "CNI-DN-")
			if !old[c] {
				created = append(created, c)
			}
		}
		if len(created) == 0 {
			continue
		}
		if inUse {
			t.Logf("cleanup: %s %s still has pod chains; left %v in place", x.bin, x.table, created)
			continue
		}
		dropChains(t, x, created)
	}
}

func dropChains(t *testing.T, x iptTable, created []string) {
	t.Helper()
	isCreated := map[string]bool{}
	for _, c := range created {
		isCreated[c] = true
	}
	deleteJumpsTo(t, x, isCreated)
	for _, c := range created {
		if _, err := x.run("-F", c); err != nil && !chainGone(err) {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, c := range created {
		if err := x.deleteChain(c); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// chainGone reports an iptables error about a chain that no longer exists:
// portmap's DEL creates and deletes per-pod chains on its own.
func chainGone(err error) bool {
	return strings.Contains(err.Error(), "No chain/target/match by that name")
}

// deleteChain deletes a flushed chain. nf_tables may still count a jump
// from a rule deleted a moment ago (its release is deferred in the kernel)
// and answer EBUSY, so that is retried for a while.
func (x iptTable) deleteChain(c string) error {
	var err error
	for range 50 {
		_, err = x.run("-X", c)
		if err == nil || chainGone(err) {
			return nil
		}
		if !strings.Contains(err.Error(), "busy") {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// deleteJumpsTo removes, from chains that existed before, the rules that
// jump to a created chain, by rule number from the last one down.
func deleteJumpsTo(t *testing.T, x iptTable, created map[string]bool) {
	t.Helper()
	out, err := x.run("-S")
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[string]int{} // rule number within its chain
	type rule struct {
		chain string
		num   int
	}
	var doomed []rule
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "-A" {
			continue
		}
		numbers[f[1]]++
		if created[f[1]] {
			continue
		}
		for i := 0; i+1 < len(f); i++ {
			if (f[i] == "-j" || f[i] == "-g") && created[f[i+1]] {
				doomed = append(doomed, rule{f[1], numbers[f[1]]})
			}
		}
	}
	for i := len(doomed) - 1; i >= 0; i-- {
		if _, err := x.run("-D", doomed[i].chain, fmt.Sprint(doomed[i].num)); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// newPodNS makes a pinned namespace for a pod and removes it at cleanup.
func newPodNS(t *testing.T, id string) *netns.NetNS {
	t.Helper()
	ns, err := netns.New(context.Background(), filepath.Join(t.TempDir(), "netns"), id)
	if err != nil {
		t.Fatalf("netns.New: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Remove(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return ns
}

// setupPod creates a namespace for id, runs Setup and registers Teardown.
func (e *bridgeEnv) setupPod(t *testing.T, id string, ports ...PortMapping) (PodNetwork, *netns.NetNS, *Result) {
	t.Helper()
	ns := newPodNS(t, id)
	pod := PodNetwork{ID: id, NetNSPath: ns.Path(), Name: "web", Namespace: "default", UID: "uid-" + id, PortMappings: ports}
	res, err := e.network.Setup(context.Background(), pod)
	if err != nil {
		t.Fatalf("Setup(%s): %v", id, err)
	}
	t.Cleanup(func() {
		if err := e.network.Teardown(context.Background(), pod); err != nil {
			t.Errorf("cleanup Teardown(%s): %v", id, err)
		}
	})
	return pod, ns, res
}

func podID(t *testing.T) string {
	return "pod-" + randomHex(t, 6)
}
