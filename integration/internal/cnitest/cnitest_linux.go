// Package cnitest gives an integration test a CNI network of its own (a
// bridge, host-local addresses, portmap host ports, loopback) and puts
// back everything the network changed on the host at cleanup: the bridge,
// the forwarding and route_localnet sysctls, the iptables chains that
// appeared and the rules jumping to them, libcni's cache directory.
package cnitest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
)

// Network writes, into confDir, a CNI network named netName on a bridge
// (named bridgePrefix and random hex) of the test's own (bridge + host-local, portmap for host ports,
// loopback) with a free private /24 and host-local state under dataDir
// (leases in dataDir/netName). Everything it changes on the host is put
// back at cleanup: the bridge, forwarding and route_localnet sysctls, the
// iptables chains that appeared (portmap's, whose per-pod rules carry
// netName), libcni's cache dir.
func Network(t *testing.T, confDir, dataDir, netName, bridgePrefix string) {
	t.Helper()
	restoreHostNetwork(t, netName)
	bridge := bridgePrefix + RandomHex(t, 4)
	t.Cleanup(func() { deleteLink(t, bridge) })
	conf := map[string]any{
		"cniVersion": "1.0.0", "name": netName,
		"plugins": []any{
			map[string]any{"type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{"type": "host-local", "dataDir": dataDir,
					"ranges": [][]map[string]string{{{"subnet": freeSubnet(t).String()}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}}}},
			map[string]any{"type": "portmap", "snat": true, "capabilities": map[string]bool{"portMappings": true}},
			map[string]any{"type": "loopback"},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "10-"+netName+".conflist"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// RandomHex is n random bytes in hex, for names unique to a test.
func RandomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeSubnet picks 10.88.X.0/24 overlapping no route of the host.
func freeSubnet(t *testing.T) *net.IPNet {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.88.%d.0/24", 1+mrand.IntN(254)))
		if !slices.ContainsFunc(routes, func(r netlink.Route) bool {
			return r.Dst != nil && !r.Dst.IP.IsUnspecified() && (r.Dst.Contains(subnet.IP) || subnet.Contains(r.Dst.IP))
		}) {
			return subnet
		}
	}
	t.Fatal("no free 10.88.X.0/24 subnet")
	return nil
}

func deleteLink(t *testing.T, name string) {
	if l, err := netlink.LinkByName(name); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			t.Errorf("cleanup: delete link %s: %v", name, err)
		}
	}
}

// restoreHostNetwork snapshots the forwarding (and route_localnet) sysctls, the iptables chains
// and libcni's cache dir, and puts them back at cleanup.
func restoreHostNetwork(t *testing.T, netName string) {
	t.Helper()
	const cniCache = "/var/lib/cni"
	_, cacheErr := os.Stat(cniCache)
	chains := snapshotChains(t)
	sysctls := snapshotForwarding(t)
	t.Cleanup(func() {
		if os.IsNotExist(cacheErr) {
			os.Remove(filepath.Join(cniCache, "results"))
			os.Remove(cniCache)
		}
	})
	t.Cleanup(func() { removeNewChains(t, chains, netName) })
	t.Cleanup(func() { restoreSysctls(t, sysctls) })
}

// forwardingMasters rewrite every interface's forwarding when written, so
// they are put back first.
var forwardingMasters = []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"}

func snapshotForwarding(t *testing.T) map[string]string {
	t.Helper()
	values := map[string]string{}
	for _, pattern := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/*/forwarding", "/proc/sys/net/ipv6/conf/*/forwarding", "/proc/sys/net/ipv4/conf/*/route_localnet"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			values[p] = strings.TrimSpace(string(b))
		}
	}
	return values
}

func restoreSysctls(t *testing.T, values map[string]string) {
	write := func(p, v string) {
		b, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(b)) == v {
			return // the interface went away, or nothing changed
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Errorf("cleanup: restore %s=%s: %v", p, v, err)
		}
	}
	for _, p := range forwardingMasters {
		if v, ok := values[p]; ok {
			write(p, v)
		}
	}
	for p, v := range values {
		if !slices.Contains(forwardingMasters, p) {
			write(p, v)
		}
	}
}

// Table is one iptables binary and table.
type Table struct{ Bin, Name string }

// Tables are the tables CNI plugins write rules into.
var Tables = []Table{{"iptables", "nat"}, {"iptables", "filter"}, {"ip6tables", "nat"}, {"ip6tables", "filter"}}

// Run runs the table's binary with args on the table (waiting for its lock).
func (x Table) Run(args ...string) (string, error) {
	full := append([]string{"-w", "-t", x.Name}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, x.Bin, full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", x.Bin, strings.Join(full, " "), err, out)
	}
	return string(out), nil
}

func (x Table) chains(t *testing.T) map[string]bool {
	out, err := x.Run("-S")
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

func snapshotChains(t *testing.T) map[Table]map[string]bool {
	t.Helper()
	snap := map[Table]map[string]bool{}
	for _, x := range Tables {
		if _, err := exec.LookPath(x.Bin); err == nil {
			snap[x] = x.chains(t)
		}
	}
	return snap
}

// removeNewChains deletes the chains that appeared since the snapshot
// (portmap's CNI-HOSTPORT-* and any per-pod CNI-DN-* chain of netName a
// failed teardown left) with the rules jumping to them. Pod chains of
// other networks, or there before, keep the shared chains.
func removeNewChains(t *testing.T, before map[Table]map[string]bool, netName string) {
	for x, old := range before {
		ours := podChainsOf(t, x, netName)
		var podChains, shared []string
		othersInUse := false
		for c := range x.chains(t) {
			switch {
			case strings.HasPrefix(c, "CNI-DN-"):
				// Ours: made during the test, for a pod of this network.
				// One that was there before (another run's, even of a
				// network with this name) is not the test's to drop.
				if ours[c] && !old[c] {
					podChains = append(podChains, c)
				} else {
					othersInUse = true
				}
			case !old[c] && strings.HasPrefix(c, "CNI-"):
				// Other chains that appeared meanwhile (a kubelet's
				// KUBE-*) are not the network's to drop.
				shared = append(shared, c)
			}
		}
		if len(podChains) > 0 {
			dropChains(t, x, podChains)
		}
		if len(shared) > 0 && othersInUse {
			t.Logf("cleanup: %s %s holds other pods' chains; left %v in place", x.Bin, x.Name, shared)
		} else if len(shared) > 0 {
			dropChains(t, x, shared)
		}
	}
}

// podChainsOf names portmap's per-pod chains of network netName: those
// the rules naming it ("dnat name: \"NET\"" comments) jump to.
func podChainsOf(t *testing.T, x Table, netName string) map[string]bool {
	out, err := x.Run("-S")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return nil
	}
	chains := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, `\"`+netName+`\"`) {
			continue
		}
		f := SplitRule(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-j" && strings.HasPrefix(f[i+1], "CNI-DN-") {
				chains[f[i+1]] = true
			}
		}
	}
	return chains
}

func dropChains(t *testing.T, x Table, created []string) {
	isCreated := map[string]bool{}
	for _, c := range created {
		isCreated[c] = true
	}
	deleteJumpsTo(t, x, isCreated)
	for _, c := range created {
		if _, err := x.Run("-F", c); err != nil && !chainGone(err) {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, c := range created {
		if err := x.deleteChain(c); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func chainGone(err error) bool {
	return strings.Contains(err.Error(), "No chain/target/match by that name")
}

// deleteChain deletes a flushed chain, retrying while nf_tables still
// counts a jump from a rule deleted a moment ago (EBUSY).
func (x Table) deleteChain(c string) error {
	var err error
	for range 50 {
		if _, err = x.Run("-X", c); err == nil || chainGone(err) {
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
// jump to a created chain, each by its own spec (not by number, which a
// concurrent edit could shift onto another rule).
func deleteJumpsTo(t *testing.T, x Table, created map[string]bool) {
	out, err := x.Run("-S")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := SplitRule(line)
		if len(f) < 2 || f[0] != "-A" || created[f[1]] {
			continue
		}
		for i := 0; i+1 < len(f); i++ {
			if (f[i] == "-j" || f[i] == "-g") && created[f[i+1]] {
				if _, err := x.Run(append([]string{"-D"}, f[1:]...)...); err != nil {
					t.Errorf("cleanup: %v", err)
				}
				break
			}
		}
	}
}

// SplitRule splits a line of iptables -S into arguments, keeping a double-
// quoted argument (a comment) whole, with its \" escapes as quotes.
func SplitRule(line string) []string {
	var args []string
	var cur strings.Builder
	quoted, inArg, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quoted:
			escaped = true
		case r == '"':
			quoted, inArg = !quoted, true
		case r == ' ' && !quoted:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
			}
			inArg = false
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

// RemoveNewChainsNamed snapshots the chains of tables now and, at cleanup,
// deletes those that appeared since whose names start with prefix, with
// the rules jumping to them (kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY,
// KUBE-IPTABLES-HINT, say).
func RemoveNewChainsNamed(t *testing.T, tables []Table, prefix string) {
	t.Helper()
	before := map[Table]map[string]bool{}
	for _, x := range tables {
		if _, err := exec.LookPath(x.Bin); err == nil {
			before[x] = x.chains(t)
		}
	}
	t.Cleanup(func() {
		for x, old := range before {
			var created []string
			for c := range x.chains(t) {
				if !old[c] && strings.HasPrefix(c, prefix) {
					created = append(created, c)
				}
			}
			if len(created) > 0 {
				dropChains(t, x, created)
			}
		}
	})
}
