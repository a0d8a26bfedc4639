package kubelet

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// nodeName is the name the kubelet registers its node under: an address
// on loopback, which kubelet then reports as the node's InternalIP (a
// --node-ip cannot be loopback), so the API server reaches it there.
const nodeName = "127.0.0.1"

// cluster is etcd, kube-apiserver and a kubelet on runletd, all on
// loopback, in dir.
type cluster struct {
	dir       string
	pki       *pki
	server    string // https://127.0.0.1:PORT
	admin     string // kubeconfig of a cluster admin
	runletd   *daemontest.Daemon
	kubelet   *daemontest.Process
	apiserver *daemontest.Process
}

// startControlPlane starts etcd and kube-apiserver with certificates of
// the test's own and waits until the API server is ready.
func startControlPlane(t *testing.T, dir string) *cluster {
	t.Helper()
	c := &cluster{dir: dir, pki: newPKI(t, filepath.Join(dir, "pki"))}
	t.Cleanup(func() { c.saveLogs(t) }) // after every component stopped
	etcd := startEtcd(t, dir)
	port := daemontest.FreePort(t)
	c.server = fmt.Sprintf("https://127.0.0.1:%d", port)
	serving := c.pki.server(t, "apiserver", "kube-apiserver", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
	toKubelet := c.pki.client(t, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters")
	saKey := c.pki.signingKey(t, "service-account")
	c.apiserver = daemontest.StartProcess(t, filepath.Join(dir, "kube-apiserver.log"), daemontest.Tool(t, "kube-apiserver"),
		"--etcd-servers="+etcd,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file="+serving.Cert, "--tls-private-key-file="+serving.Key,
		"--client-ca-file="+c.pki.CAFile,
		"--kubelet-client-certificate="+toKubelet.Cert, "--kubelet-client-key="+toKubelet.Key,
		"--kubelet-certificate-authority="+c.pki.CAFile,
		"--kubelet-preferred-address-types=InternalIP",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true", "--endpoint-reconciler-type=none", "--profiling=false",
	)
	adminCert := c.pki.client(t, "admin", "runlet-test-admin", "system:masters")
	c.admin = c.kubeconfig(t, "admin", adminCert)
	c.waitReady(t, adminCert)
	return c
}

// startEtcd starts Debian's etcd on two free loopback ports and returns
// its client URL.
func startEtcd(t *testing.T, dir string) string {
	t.Helper()
	client := fmt.Sprintf("http://127.0.0.1:%d", daemontest.FreePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", daemontest.FreePort(t))
	bin := "/usr/bin/etcd"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("etcd (Debian's etcd-server, `make deps`): %v", err)
	}
	daemontest.StartProcess(t, filepath.Join(dir, "etcd.log"), bin,
		"--name=runlet-test", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=runlet-test="+peer, "--initial-cluster-state=new")
	return client
}

// waitReady polls the API server's /readyz as the admin.
func (c *cluster) waitReady(t *testing.T, admin pair) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(admin.Cert, admin.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.pki.ca)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	defer client.CloseIdleConnections()
	daemontest.WaitFor(t, 2*time.Minute, "kube-apiserver to be ready", func() bool {
		if c.apiserver.Exited() {
			t.Fatalf("kube-apiserver exited:\n%s", tailOf(c.apiserver.LogText(), 6000))
		}
		resp, err := client.Get(c.server + "/readyz")
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kubeconfig writes dir/name.kubeconfig for the client certificate p.
func (c *cluster) kubeconfig(t *testing.T, name string, p pair) string {
	t.Helper()
	path := filepath.Join(c.dir, name+".kubeconfig")
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: runlet-test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: %s
  user: {client-certificate: %q, client-key: %q}
contexts:
- name: runlet-test
  context: {cluster: runlet-test, user: %s}
current-context: runlet-test
`, c.server, c.pki.CAFile, name, p.Cert, p.Key, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tailOf is the last n bytes of s.
func tailOf(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
