package runtime

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bridgeConf is a CNI network on a bridge of the test's own, addresses
// from a private subnet that exists only on that bridge and in the pods'
// namespaces (no masquerade, no route out of the host).
func bridgeConf(bridge, subnet, dataDir string) string {
	return fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "runlet-it", "plugins": [
 {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
  "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}},
 {"type": "loopback"}]}`, bridge, dataDir, subnet)
}

func TestPodGetsAnAddressFromTheCNINetworkAndLosesItOnStop(t *testing.T) {
	f := start(t)
	bridge := "rlt" + randomHex(3)
	subnet := "10.88." + fmt.Sprint(100+int(randomHex(1)[0])%100) + ".0/24"
	dataDir := t.TempDir()
	t.Cleanup(func() { exec.Command("ip", "link", "delete", bridge).Run() })
	keepHostState(t, "/proc/sys/net/ipv4/ip_forward", "/var/lib/cni")
	if err := os.MkdirAll(filepath.Join(f.Dir, "net.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.Dir, "net.d", "10-it.conflist"), []byte(bridgeConf(bridge, subnet, dataDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	id := f.runp(t, "netpod", "")
	out := f.MustCrictl(t, "inspectp", "-o", "go-template", "--template", "{{.status.network.ip}}", id)
	ip := net.ParseIP(strings.TrimSpace(out))
	_, cidr, _ := net.ParseCIDR(subnet)
	if ip == nil || !cidr.Contains(ip) {
		t.Fatalf("pod ip %q, want one in %s", out, subnet)
	}
	if !hostLease(t, dataDir, ip.String()) {
		t.Fatalf("host-local holds no lease for %s", ip)
	}
	f.MustCrictl(t, "stopp", id)
	if hostLease(t, dataDir, ip.String()) {
		t.Fatalf("the lease of %s outlives the pod's stop", ip)
	}
	f.MustCrictl(t, "rmp", id)
	f.assertNothingLeft(t)
}

// hostLease reports whether host-local's data dir holds a lease for ip.
func hostLease(t *testing.T, dataDir, ip string) bool {
	found := false
	filepath.Walk(dataDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && filepath.Base(p) == ip {
			found = true
		}
		return nil
	})
	return found
}

// keepHostState puts back what the bridge plugin and libcni change on the
// host: the forwarding sysctl (isGateway turns it on) and libcni's cache
// directory when the test made it.
func keepHostState(t *testing.T, sysctl, cacheDir string) {
	before, err := os.ReadFile(sysctl)
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(cacheDir)
	t.Cleanup(func() {
		if err := os.WriteFile(sysctl, before, 0o644); err != nil {
			t.Errorf("restore %s: %v", sysctl, err)
		}
		if os.IsNotExist(statErr) {
			os.Remove(filepath.Join(cacheDir, "results"))
			os.Remove(cacheDir)
		}
	})
}
