package bundletest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlet/runlet/bundle"
)

// rootfsDirs are created in every rootfs, with their modes.
var rootfsDirs = map[string]os.FileMode{
	"bin": 0o755, "dev": 0o755, "etc": 0o755, "proc": 0o555, "sys": 0o555,
	"root": 0o700, "run": 0o755, "tmp": 0o777 | os.ModeSticky, "var": 0o755,
}

var rootfsFiles = map[string]string{
	"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
	"etc/group":  "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
	"etc/hosts":  "127.0.0.1 localhost\n",
}

// BusyboxRootfs fills the existing directory dir with a minimal root
// filesystem: the host's static busybox as /bin/busybox, a /bin symlink for
// every applet it has (sh, echo, cat, sleep, ls, ...), /etc/passwd and
// /etc/group, and empty /dev, /proc, /sys, /tmp, /run. What it created is
// removed by t.Cleanup, after unmounting anything a test left mounted there.
// The test is skipped when the host has no static busybox.
func BusyboxRootfs(t testing.TB, dir string) {
	t.Helper()
	src := staticBusybox(t)
	t.Cleanup(func() { removeRootfs(t, dir) })
	for name, mode := range rootfsDirs {
		mkdir(t, filepath.Join(dir, name), mode)
	}
	for name, content := range rootfsFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, src, filepath.Join(dir, "bin", "busybox"), 0o755)
	for _, applet := range applets(t, src) {
		link := filepath.Join(dir, "bin", applet)
		if err := os.Symlink("busybox", link); err != nil && !errors.Is(err, os.ErrExist) {
			t.Fatal(err)
		}
	}
}

// staticBusybox finds busybox on the host and checks that it runs without a
// dynamic loader, as it must inside an empty rootfs.
func staticBusybox(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not found; install busybox-static")
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Skipf("%s is dynamically linked; install busybox-static", path)
		}
	}
	return path
}

// applets lists the applet names busybox was built with.
func applets(t testing.TB, busybox string) []string {
	t.Helper()
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", busybox, err)
	}
	var names []string
	for _, name := range strings.Fields(string(bytes.TrimSpace(out))) {
		if name != "busybox" && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	return names
}

func mkdir(t testing.TB, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func removeRootfs(t testing.TB, dir string) {
	if err := bundle.UnmountAll(context.Background(), dir); err != nil {
		t.Errorf("cleanup rootfs %s: %v", dir, err)
		return
	}
	for name := range rootfsDirs {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			t.Errorf("cleanup rootfs: %v", err)
		}
	}
}
