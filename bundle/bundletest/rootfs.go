package bundletest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

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
// filesystem (see WriteBusyboxRootfs). What it created is removed by
// t.Cleanup, after unmounting anything a test left mounted there. The test
// is skipped when the host has no static busybox.
func BusyboxRootfs(t testing.TB, dir string) {
	t.Helper()
	t.Cleanup(func() {
		if err := RemoveBusyboxRootfs(context.Background(), dir); err != nil {
			t.Errorf("cleanup rootfs %s: %v", dir, err)
		}
	})
	err := WriteBusyboxRootfs(dir)
	if errdefs.IsNotFound(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// WriteBusyboxRootfs fills the existing directory dir with a minimal root
// filesystem: the host's static busybox as /bin/busybox, a /bin symlink for
// every applet it has (sh, echo, cat, sleep, ls, ...), /etc/passwd and
// /etc/group, and empty /dev, /proc, /sys, /tmp, /run. Without a static
// busybox on the host it fails with errdefs.ErrNotFound.
func WriteBusyboxRootfs(dir string) error {
	src, err := StaticBusybox("")
	if err != nil {
		return err
	}
	return WriteBusyboxRootfsFrom(dir, src)
}

// WriteBusyboxRootfsFrom is WriteBusyboxRootfs with the static busybox at
// src (checked by StaticBusybox).
func WriteBusyboxRootfsFrom(dir, src string) error {
	for name, mode := range rootfsDirs {
		if err := mkdir(filepath.Join(dir, name), mode); err != nil {
			return err
		}
	}
	for name, content := range rootfsFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := copyFile(src, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	names, err := applets(src)
	if err != nil {
		return err
	}
	for _, applet := range names {
		link := filepath.Join(dir, "bin", applet)
		if err := os.Symlink("busybox", link); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

// RemoveBusyboxRootfs unmounts what is mounted under dir and removes what
// WriteBusyboxRootfs created there.
func RemoveBusyboxRootfs(ctx context.Context, dir string) error {
	if err := bundle.UnmountAll(ctx, dir); err != nil {
		return err
	}
	var errs []error
	for name := range rootfsDirs {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, name)))
	}
	return errors.Join(errs...)
}

// StaticBusybox checks that the busybox at path ("": the one on PATH) runs
// without a dynamic loader, as it must inside an empty rootfs, and returns
// its path. No busybox on PATH, or a dynamic one, is errdefs.ErrNotFound.
func StaticBusybox(path string) (string, error) {
	if path == "" {
		p, err := exec.LookPath("busybox")
		if err != nil {
			return "", fmt.Errorf("busybox not found, install busybox-static: %w", errdefs.ErrNotFound)
		}
		path = p
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is dynamically linked, install busybox-static: %w", path, errdefs.ErrNotFound)
		}
	}
	return path, nil
}

// applets lists the applet names busybox was built with.
func applets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var names []string
	for _, name := range strings.Fields(string(bytes.TrimSpace(out))) {
		if name != "busybox" && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	return names, nil
}

func mkdir(dir string, mode os.FileMode) error {
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Chmod(dir, mode)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
