package runtime

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// startWithStreaming is startWithBusybox with a [streaming] table.
func startWithStreaming(t *testing.T, streaming string) *fixture {
	t.Helper()
	daemontest.NeedRoot(t)
	return startExtra(t, "[images]\nimport_dir = \""+busyboxImportDir(t)+"\"\n[streaming]\n"+streaming)
}

// streamingURL is the URL of an exec session in ctr, which names the
// streaming server's address.
func (f *fixture) streamingURL(t *testing.T, ctr string) *url.URL {
	t.Helper()
	r, err := f.Runtime.Exec(daemontest.Ctx(t), &runtimeapi.ExecRequest{ContainerId: ctr, Cmd: []string{"true"}, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(r.GetUrl())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestThousandsOfIdleStreamingConnectionsNeitherExhaustDescriptorsNorBlockAnExec(t *testing.T) {
	const maxConns, idle = 512, 2000 // the default streaming.max_connections
	f := startWithStreaming(t, "")
	pod, ctr := f.run(t, "flood", "", "sleep 1000")
	addr := f.streamingURL(t, ctr).Host
	before := openFDs(t, f.Proc.Pid())
	for range idle {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial the streaming server: %v", err)
		}
		defer c.Close()
	}
	// Accepted in order: this exec's connection comes after every idle one.
	if out := f.MustCrictl(t, "exec", ctr, "echo", "served"); strings.TrimSpace(out) != "served" {
		t.Fatalf("exec beside %d idle connections: %q", idle, out)
	}
	// The exec just served may still hold a few (its CRI connection, FIFOs).
	const sessionFDs = 32
	if now := openFDs(t, f.Proc.Pid()); now > before+maxConns+sessionFDs {
		t.Fatalf("runletd holds %d descriptors with %d idle connections open, %d before: more than max_connections (%d) + %d more", now, idle, before, maxConns, sessionFDs)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestAStreamingSessionPastMaxSessionsIsRefused(t *testing.T) {
	f := startWithStreaming(t, "max_sessions = 1\n")
	pod, ctr := f.run(t, "sessions", "", "sleep 1000")
	first := f.CrictlCommand(t, "exec", "-i", ctr, "cat")
	stdin, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var firstOut lockedBuffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	if _, err := stdin.Write([]byte("first session\n")); err != nil {
		t.Fatal(err)
	}
	daemontest.WaitFor(t, 30*time.Second, "the first session's echo", func() bool { return strings.Contains(firstOut.String(), "first session") })
	out, err := f.Crictl(t, "exec", ctr, "echo", "second")
	if err == nil || strings.Contains(out, "second\n") || !strings.Contains(out, "max_sessions") && !strings.Contains(out, "429") && !strings.Contains(out, "Too Many") {
		t.Fatalf("a second session with max_sessions = 1: %v\n%s", err, out)
	}
	stdin.Close()
	if err := first.Wait(); err != nil {
		t.Fatalf("the first session: %v\n%s", err, firstOut.String())
	}
	if out := f.MustCrictl(t, "exec", ctr, "echo", "third"); strings.TrimSpace(out) != "third" {
		t.Fatalf("a session after the first ended: %q", out)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func TestTheStreamingServerServesTLSWithTheConfiguredKeyPair(t *testing.T) {
	certFile, keyFile, pool := writeKeyPair(t)
	f := startWithStreaming(t, "enable_tls_streaming = true\n[streaming.x509_key_pair_streaming]\ntls_cert_file = \""+certFile+"\"\ntls_key_file = \""+keyFile+"\"\n")
	pod, ctr := f.run(t, "tls", "", "sleep 1000")
	u := f.streamingURL(t, ctr)
	if u.Scheme != "https" {
		t.Fatalf("session URL %s is not https", u)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS to the streaming server with the configured certificate: %v", err)
	}
	conn.Close()
	if out := f.MustCrictl(t, "exec", ctr, "echo", "over", "tls"); strings.TrimSpace(out) != "over tls" {
		t.Fatalf("exec over TLS: %q", out)
	}
	if resp, err := http.Get("http://" + u.Host + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest { // Go's answer to plain HTTP on a TLS port
			t.Fatalf("plain HTTP was answered %s", resp.Status)
		}
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

// writeKeyPair writes a self-signed certificate for 127.0.0.1 and its key
// and returns their paths and a pool trusting the certificate.
func writeKeyPair(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "runletd streaming"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "streaming.crt"), filepath.Join(dir, "streaming.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestAnIdleStreamingConnectionIsClosedAtConnectionIdleTimeout(t *testing.T) {
	f := startWithStreaming(t, "connection_idle_timeout = \"1s\"\n")
	pod, ctr := f.run(t, "idle", "", "sleep 1000")
	c, err := net.Dial("tcp", f.streamingURL(t, ctr).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // guards a broken server only
	if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a connection that sent nothing stayed open")
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}
