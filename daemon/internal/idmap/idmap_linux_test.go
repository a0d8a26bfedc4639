package idmap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
)

var podMapping = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}

func hold(t *testing.T, newNet bool) *Holder {
	t.Helper()
	bundletest.RequireRoot(t)
	h, err := Hold(context.Background(), podMapping, podMapping, newNet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Mountpoint)
	}
	return out
}

func nsOwner(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_USERNS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestHolderHasThePodMappingsAndANetworkNamespaceItOwns(t *testing.T) {
	h := hold(t, true)
	b, err := os.ReadFile(strings.Replace(h.NSPath("user"), "ns/user", "uid_map", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "0 100000 65536" {
		t.Fatalf("uid_map %q", got)
	}
	if nsOwner(t, h.NSPath("net")) != inode(t, h.NSPath("user")) {
		t.Fatal("the holder's network namespace is not owned by its user namespace")
	}
	pid := h.cmd.Process.Pid
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("holder %d still alive after Close", pid)
	}
}

func TestStagedBindShowsHostRootFilesAsTheMappedRootAndReleasesClean(t *testing.T) {
	h := hold(t, false)
	src, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := NewStager(filepath.Join(dir, "idmap"), h.NSPath("user"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t.Cleanup(func() { st.Release(context.Background()) })
	p, err := st.Bind(src, false)
	if err != nil {
		t.Fatal(err)
	}
	var s unix.Stat_t
	if err := unix.Stat(filepath.Join(p, "f"), &s); err != nil {
		t.Fatal(err)
	}
	if s.Uid != 100000 || s.Gid != 100000 {
		t.Fatalf("through the id-mapped clone the file is %d:%d, want 100000:100000", s.Uid, s.Gid)
	}
	if err := st.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := mountsUnder(t, dir); len(m) != 0 {
		t.Fatalf("mounts left: %v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "idmap")); !os.IsNotExist(err) {
		t.Fatalf("staging dir left: %v", err)
	}
}

// The rootfs of a user namespace task: image files owned by host root
// show as the mapped root, the container's root can write (as a runtime
// must, to make mount points), and only the overlay stays mounted.
func TestRootfsOverlayOverIDMappedLayersIsTheMappedRootsAndWritable(t *testing.T) {
	h := hold(t, false)
	dir := t.TempDir()
	for _, d := range []string{"l1", "l2", "snap/upper", "snap/work", "rootfs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "l1", "bottom"), []byte("1"), 0o644)
	os.WriteFile(filepath.Join(dir, "l2", "top"), []byte("2"), 0o644)
	rootfs := filepath.Join(dir, "rootfs")
	mounts := []bundle.Mount{{Type: "overlay", Source: "overlay", Options: []string{"index=off",
		"lowerdir=" + filepath.Join(dir, "l2") + ":" + filepath.Join(dir, "l1"),
		"upperdir=" + filepath.Join(dir, "snap/upper"), "workdir=" + filepath.Join(dir, "snap/work")}}}
	root := IDs{UID: 100000, GID: 100000}
	if err := MountRootfs(context.Background(), filepath.Join(dir, "stage"), h.NSPath("user"), root, mounts, rootfs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bundle.UnmountAll(context.Background(), rootfs) })
	for _, f := range []string{"", "bottom", "top"} {
		if s := stat(t, filepath.Join(rootfs, f)); s.Uid != 100000 || s.Gid != 100000 {
			t.Errorf("rootfs/%s is owned by %d:%d, want the mapped root 100000", f, s.Uid, s.Gid)
		}
	}
	if m := mountsUnder(t, dir); len(m) != 1 || m[0] != rootfs {
		t.Fatalf("mounts %v, want only the overlay at %s", m, rootfs)
	}
	// As the namespace's root: the path must be searchable by it.
	for p := dir; p != "/"; p = filepath.Dir(p) {
		if m := stat(t, p).Mode & 0o7777; m&0o001 == 0 {
			unix.Chmod(p, m|0o001)
		}
	}
	script := "mkdir " + rootfs + "/proc && echo x > " + rootfs + "/bottom && stat -c %u " + rootfs + "/bottom"
	out, err := exec.Command("nsenter", "--user="+h.NSPath("user"), "-S", "0", "-G", "0", "sh", "-c", script).CombinedOutput()
	if err != nil || string(out) != "0\n" {
		t.Fatalf("as the mapped root: %q %v", out, err)
	}
	if s := stat(t, filepath.Join(dir, "snap/upper/bottom")); s.Uid != 100000 {
		t.Fatalf("the copied-up file is stored as %d, want host uid 100000", s.Uid)
	}
}

func stat(t *testing.T, path string) unix.Stat_t {
	t.Helper()
	var s unix.Stat_t
	if err := unix.Stat(path, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSupportedOnThisHostsTempDir(t *testing.T) {
	bundletest.RequireRoot(t)
	if err := Supported(context.Background(), t.TempDir()); err != nil {
		t.Fatalf("id-mapped mounts on %s: %v", os.TempDir(), err)
	}
}
