package bundletest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlet/runlet/bundle"
)

func TestBusyboxRootfsHasShellAppletsAndIsRemovedOnCleanup(t *testing.T) {
	dir := t.TempDir()
	t.Run("build", func(t *testing.T) {
		BusyboxRootfs(t, dir)
		for _, applet := range []string{"sh", "echo", "cat", "sleep", "ls"} {
			target, err := os.Readlink(filepath.Join(dir, "bin", applet))
			if err != nil || target != "busybox" {
				t.Errorf("bin/%s -> %q, %v; want busybox", applet, target, err)
			}
		}
		fi, err := os.Stat(filepath.Join(dir, "bin", "busybox"))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("bin/busybox: %v %v", fi, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 {
			t.Errorf("tmp not sticky: %v %v", fi, err)
		}
		if data, err := os.ReadFile(filepath.Join(dir, "etc", "passwd")); err != nil || !strings.HasPrefix(string(data), "root:x:0:0:") {
			t.Errorf("etc/passwd = %q, %v", data, err)
		}
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("cleanup left %d entries, first %s", len(entries), entries[0].Name())
	}
}

func TestNewBundleWritesDefaultSpecAndIsDeletedOnCleanup(t *testing.T) {
	var b *bundle.Bundle
	t.Run("create", func(t *testing.T) {
		b = NewBundle(t, "echo", "hi")
		spec, err := bundle.ReadSpec(b.Path)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Process.Args[1] != "hi" || spec.Root.Path != "rootfs" || spec.Linux.CgroupsPath != "/"+b.ID {
			t.Errorf("spec process %v root %q cgroup %q", spec.Process.Args, spec.Root.Path, spec.Linux.CgroupsPath)
		}
		if _, err := os.Lstat(filepath.Join(b.Rootfs(), "bin", "sh")); err != nil {
			t.Error(err)
		}
	})
	if _, err := os.Stat(b.Path); !os.IsNotExist(err) {
		t.Fatalf("bundle %s still there after cleanup: %v", b.Path, err)
	}
}

func TestUniqueIDIsValidAndUniqueForLongAndOddTestNames(t *testing.T) {
	t.Run(strings.Repeat("very long name ", 10)+"ÄÖ/..//x", func(t *testing.T) {
		a, b := UniqueID(t), UniqueID(t)
		for _, id := range []string{a, b} {
			if err := bundle.ValidateID(id); err != nil {
				t.Errorf("UniqueID = %q: %v", id, err)
			}
		}
		if a == b {
			t.Errorf("UniqueID repeated %q", a)
		}
	})
}
