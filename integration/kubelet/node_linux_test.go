package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runlet/runlet/integration/images/testimages"
	"github.com/runlet/runlet/integration/internal/cnitest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// startRunletd starts runletd with runlet's runc and crun shims, a CNI
// network of the test's own and a loopback registry holding busybox, whose
// reference it returns.
func startRunletd(t *testing.T, dir string) (*daemontest.Daemon, string) {
	t.Helper()
	netDir := filepath.Join(dir, "net.d")
	cnitest.Network(t, netDir, filepath.Join(dir, "cni-data"), "runlet-kube", "rlk")
	registry := daemontest.Registry(t)
	busybox := pushBusybox(t, registry)
	extra := fmt.Sprintf("[images]\nplain_http_registries = [%q]\n[network]\ncni_bin_dirs = [\"/usr/lib/cni\"]\ncni_conf_dir = %q\n",
		registry, netDir)
	d := daemontest.StartIn(t, dir, extra)
	t.Cleanup(func() { daemontest.RemoveAllPods(t, d) })
	return d, busybox
}

// pushBusybox pushes the busybox image to the registry at host.
func pushBusybox(t *testing.T, host string) string {
	t.Helper()
	img, err := testimages.BusyboxImage("")
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/runlet-test/busybox:1"
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// startKubelet starts a kubelet on d as node nodeName, with its own
// serving and client certificates, root and log directories under the
// cluster's dir, and waits for the node to be Ready.
func (c *cluster) startKubelet(t *testing.T, d *daemontest.Daemon) {
	t.Helper()
	c.runletd = d
	kdir := filepath.Join(c.dir, "kubelet")
	serving := c.pki.server(t, "kubelet", "system:node:"+nodeName)
	client := c.pki.client(t, "kubelet-client", "system:node:"+nodeName, "system:nodes")
	config := filepath.Join(c.dir, "kubelet.yaml")
	if err := os.WriteFile(config, []byte(c.kubeletConfig(d, serving, daemontest.FreePort(t), daemontest.FreePort(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kubelet = daemontest.StartProcess(t, filepath.Join(c.dir, "kubelet.log"), daemontest.Tool(t, "kubelet"),
		"--config="+config, "--kubeconfig="+c.kubeconfig(t, "kubelet", client),
		"--root-dir="+kdir, "--hostname-override="+nodeName, "--v=2",
		// kubelet's container GC removes every dead container it no
		// longer needs (the default keeps one per container).
		"--maximum-dead-containers-per-container=0", "--minimum-container-ttl-duration=0s",
	)
	daemontest.WaitFor(t, 3*time.Minute, "the node to be Ready", func() bool {
		if c.kubelet.Exited() {
			t.Fatalf("kubelet exited:\n%s", tailOf(c.kubelet.LogText(), 8000))
		}
		out, err := c.kubectlErr(t, "get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil || out != "True" {
			time.Sleep(time.Second)
			return false
		}
		return true
	})
}

// kubeletConfig is the KubeletConfiguration of a kubelet on d: loopback
// only, x509 clients of the test's CA, cgroup v1 allowed (this machine's
// hierarchy is hybrid), pod logs and eviction kept to the test.
func (c *cluster) kubeletConfig(d *daemontest.Daemon, serving pair, port, healthzPort int) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://%[1]s
imageServiceEndpoint: unix://%[1]s
address: 127.0.0.1
port: %[2]d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %[3]d
tlsCertFile: %[4]q
tlsPrivateKeyFile: %[5]q
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %[6]q}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
podLogsDir: %[7]q
resolvConf: /etc/resolv.conf
serializeImagePulls: false
syncFrequency: 10s
nodeStatusUpdateFrequency: 2s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", nodefs.inodesFree: "1%%", imagefs.available: "1%%"}
`, d.Sock, port, healthzPort, serving.Cert, serving.Key, c.pki.CAFile, filepath.Join(c.dir, "pod-logs"))
}
