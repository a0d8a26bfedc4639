package netns

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// A namespace made by another process (here in its own user namespace)
// outlives it once pinned, with loopback up.
func TestPinKeepsAnotherProcesssNamespaceWithLoopbackUp(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 1}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	from := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	dir := t.TempDir()
	n, err := Pin(context.Background(), dir, "pod1", from)
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Remove(context.Background()) })
	if !isMounted(t, filepath.Join(dir, "pod1")) {
		t.Fatal("not pinned")
	}
	out, err := exec.Command("nsenter", "--net="+n.Path(), "cat", "/sys/class/net/lo/operstate").CombinedOutput()
	// A loopback that is up reads "unknown", one that is down "down".
	if err != nil || string(out) != "unknown\n" {
		t.Fatalf("loopback after the maker exited: %q %v", out, err)
	}
	if _, err := Pin(context.Background(), dir, "pod2", "/proc/self/ns/user"); err == nil {
		t.Fatal("pinned a user namespace as a network namespace")
	}
	if err := n.Remove(context.Background()); err != nil || isMounted(t, filepath.Join(dir, "pod1")) {
		t.Fatalf("remove: %v", err)
	}
}
