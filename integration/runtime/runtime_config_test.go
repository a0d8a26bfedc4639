package runtime

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func updatePodCIDR(f *fixture, t *testing.T, cidr string) error {
	_, err := f.Runtime.UpdateRuntimeConfig(daemontest.Ctx(t), &runtimeapi.UpdateRuntimeConfigRequest{
		RuntimeConfig: &runtimeapi.RuntimeConfig{NetworkConfig: &runtimeapi.NetworkConfig{PodCidr: cidr}}})
	return err
}

func keptPodCIDR(f *fixture, t *testing.T) string {
	st, err := f.Runtime.Status(daemontest.Ctx(t), &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	return st.GetInfo()["podCIDR"]
}

func TestThePodCIDRRendersTheCNIConfigTemplateAndPodsGetAddressesInIt(t *testing.T) {
	bridge := "rlt" + randomHex(3)
	subnet := "10.88." + fmt.Sprint(100+int(randomHex(1)[0])%100) + ".0/24"
	dataDir, tmplDir := t.TempDir(), t.TempDir()
	tmpl := filepath.Join(tmplDir, "cni.tmpl")
	// containerd's template fields: PodCIDR, Routes.
	text := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "runlet-tmpl", "plugins": [
 {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
  "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": "{{.PodCIDR}}"}]],
   "routes": [{{range $i, $r := .Routes}}{{if $i}},{{end}}{"dst": "{{$r}}"}{{end}}]}},
 {"type": "loopback"}]}`, bridge, dataDir)
	if err := os.WriteFile(tmpl, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f := startNetwork(t, "", fmt.Sprintf("conf_template = %q\n", tmpl))
	t.Cleanup(func() { exec.Command("ip", "link", "delete", bridge).Run() })
	keepHostState(t, "/proc/sys/net/ipv4/ip_forward", "/var/lib/cni")

	if err := updatePodCIDR(f, t, "10.88.1"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a malformed pod CIDR: %v, want InvalidArgument", err)
	}
	if err := updatePodCIDR(f, t, subnet); err != nil {
		t.Fatal(err)
	}
	if got := keptPodCIDR(f, t); got != subnet {
		t.Fatalf("Status keeps pod CIDR %q, want %q", got, subnet)
	}
	conf, err := os.ReadFile(filepath.Join(f.Dir, "net.d", "10-runlet-net.conflist"))
	if err != nil || !strings.Contains(string(conf), `"subnet": "`+subnet+`"`) || !strings.Contains(string(conf), `{"dst": "0.0.0.0/0"}`) {
		t.Fatalf("rendered config %s: %v", conf, err)
	}
	st, err := f.Runtime.Status(daemontest.Ctx(t), &runtimeapi.StatusRequest{})
	if err != nil || !st.GetStatus().GetConditions()[1].GetStatus() || st.GetStatus().GetConditions()[1].GetReason() != "" {
		t.Fatalf("NetworkReady after the render: %v, %v", st.GetStatus().GetConditions(), err)
	}
	id := f.runp(t, "tmplpod", "")
	out := f.MustCrictl(t, "inspectp", "-o", "go-template", "--template", "{{.status.network.ip}}", id)
	ip := net.ParseIP(strings.TrimSpace(out))
	_, cidr, _ := net.ParseCIDR(subnet)
	if ip == nil || !cidr.Contains(ip) {
		t.Fatalf("pod ip %q, want one in %s", out, subnet)
	}
	// A usable config is in place: a new CIDR is kept but not rendered
	// over it (containerd's rule).
	if err := updatePodCIDR(f, t, "10.77.0.0/24"); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(f.Dir, "net.d", "10-runlet-net.conflist")); string(again) != string(conf) {
		t.Fatalf("the config in use was rewritten:\n%s", again)
	}
	if got := keptPodCIDR(f, t); got != "10.77.0.0/24" {
		t.Fatalf("Status keeps pod CIDR %q", got)
	}
	f.MustCrictl(t, "rmp", "-f", id)
	f.assertNothingLeft(t)
}

func TestWithoutATemplateThePodCIDRIsKeptAndNoConfigWritten(t *testing.T) {
	f := start(t)
	if err := updatePodCIDR(f, t, "10.66.0.0/24,fd00:66::/64"); err != nil {
		t.Fatal(err)
	}
	if got := keptPodCIDR(f, t); got != "10.66.0.0/24,fd00:66::/64" {
		t.Fatalf("Status keeps pod CIDR %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.Dir, "net.d")); len(entries) != 0 {
		t.Fatalf("net.d holds %d entries", len(entries))
	}
	if !strings.Contains(f.Proc.LogText(), "no network.conf_template") {
		t.Fatal("runletd did not log why it wrote no CNI config")
	}
}
