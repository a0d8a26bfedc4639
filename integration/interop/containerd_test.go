package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
)

// containerd is a containerd daemon started by a test.
type containerd struct {
	dir     string
	address string
	cmd     *exec.Cmd
	log     bytes.Buffer
}

func requireTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop test runs containerd (root)")
	}
	bundletest.RequireRoot(t)
	for _, tool := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed (make deps)", tool)
			}
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
}

// startContainerd runs containerd with every path of its own under a
// temp dir, without the CRI plugin, and stops it at cleanup.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	dir, err := os.MkdirTemp("", "runlet-interop-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{dir: dir, address: filepath.Join(dir, "containerd.sock")}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.address, c.address+".ttrpc")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command("containerd", "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = &c.log, &c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.stop(t) })
	c.waitReady(t)
	return c
}

func (c *containerd) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", c.address); err == nil {
			conn.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("containerd did not listen on %s:\n%s", c.address, c.log.String())
}

func (c *containerd) stop(t *testing.T) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	if err := bundle.UnmountAll(context.Background(), c.dir); err != nil {
		t.Errorf("unmount under %s: %v", c.dir, err)
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Errorf("remove %s: %v", c.dir, err)
	}
	if t.Failed() {
		t.Logf("containerd log:\n%s", c.log.String())
	}
}

// ctr runs ctr against the test's containerd in namespace ns.
func (c *containerd) ctr(t *testing.T, ns string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"-a", c.address, "-n", ns}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *containerd) mustCtr(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := c.ctr(t, ns, args...)
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
