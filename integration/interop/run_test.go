package interop

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle/bundletest"
)

func TestContainerdRunsOurShims(t *testing.T) {
	requireTools(t)
	bundletest.EnsureHybridCgroupsForCrun(t)
	c := startContainerd(t)
	rootfs := t.TempDir()
	bundletest.BusyboxRootfs(t, rootfs)
	for _, name := range []string{"runlet-shim-runc-v2", "runlet-shim-crun"} {
		t.Run(name, func(t *testing.T) {
			ns := randomNamespace(t)
			shim := bundletest.ShimBinary(t, name)
			t.Cleanup(func() { removeCgroupParent(t, ns); removeRuntimeRoots(t, ns) })
			runAttached(t, c, ns, shim, rootfs)
			runDetachedLifecycle(t, c, ns, shim, rootfs)
			assertNoShimLeft(t, shim)
		})
	}
}

// runAttached is `ctr run --rm`: create, start, output, exit code, delete.
func runAttached(t *testing.T, c *containerd, ns, shim, rootfs string) {
	out := c.mustCtr(t, ns, "run", "--rm", "--runtime", shim, "--rootfs", rootfs, "attached",
		"/bin/sh", "-c", "echo interop-ok from $(cat /proc/1/comm)")
	if !strings.Contains(out, "interop-ok from sh") {
		t.Fatalf("ctr run output %q", out)
	}
	out, err := c.ctr(t, ns, "run", "--rm", "--runtime", shim, "--rootfs", rootfs, "exit3", "/bin/sh", "-c", "exit 3")
	if exitCode(err) != 3 {
		t.Fatalf("ctr run of `exit 3`: %v\n%s", err, out)
	}
}

// runDetachedLifecycle drives a running task through exec, metrics,
// pause, resume, kill and delete, as containerd's task service does.
func runDetachedLifecycle(t *testing.T, c *containerd, ns, shim, rootfs string) {
	c.mustCtr(t, ns, "run", "-d", "--runtime", shim, "--rootfs", rootfs, "sleeper", "/bin/sleep", "300")
	t.Cleanup(func() {
		c.ctr(t, ns, "task", "kill", "-s", "KILL", "sleeper")
		c.ctr(t, ns, "task", "delete", "-f", "sleeper")
		c.ctr(t, ns, "container", "rm", "sleeper")
	})
	expectStatus(t, c, ns, "RUNNING")
	if out := c.mustCtr(t, ns, "task", "exec", "--exec-id", "e1", "sleeper", "/bin/sh", "-c", "echo exec-ok"); !strings.Contains(out, "exec-ok") {
		t.Fatalf("exec output %q", out)
	}
	if out := c.mustCtr(t, ns, "task", "metrics", "sleeper"); !strings.Contains(out, "memory.usage_in_bytes") && !strings.Contains(out, "memory.usage") {
		t.Fatalf("metrics output %q", out)
	}
	c.mustCtr(t, ns, "task", "pause", "sleeper")
	expectStatus(t, c, ns, "PAUSED")
	c.mustCtr(t, ns, "task", "resume", "sleeper")
	expectStatus(t, c, ns, "RUNNING")
	c.mustCtr(t, ns, "task", "kill", "-s", "KILL", "sleeper")
	expectStatus(t, c, ns, "STOPPED")
	c.mustCtr(t, ns, "task", "delete", "sleeper")
	c.mustCtr(t, ns, "container", "rm", "sleeper")
}

func expectStatus(t *testing.T, c *containerd, ns, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = c.mustCtr(t, ns, "task", "ls")
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "sleeper" && f[2] == want {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task never %s:\n%s", want, out)
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

func randomNamespace(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "interop-" + hex.EncodeToString(b)
}
