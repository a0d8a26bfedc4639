package container

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCopyTreeKeepsContentOwnersModesLinksNodesAndXattrs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown and mknod")
	}
	src, dst := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(src, 0o750))
	must(os.Chown(src, 999, 998))
	must(os.MkdirAll(filepath.Join(src, "sub/deep"), 0o755))
	must(os.WriteFile(filepath.Join(src, "sub/deep/f"), []byte("data"), 0o600))
	must(os.Chown(filepath.Join(src, "sub/deep/f"), 1234, 5678))
	must(os.WriteFile(filepath.Join(src, "suid"), []byte("x"), 0o644))
	must(os.Chown(filepath.Join(src, "suid"), 1000, 1000))
	must(unix.Chmod(filepath.Join(src, "suid"), 0o4755)) // os.Chmod takes os.ModeSetuid, not 0o4000
	must(os.Link(filepath.Join(src, "suid"), filepath.Join(src, "hard")))
	must(os.Symlink("sub/deep/f", filepath.Join(src, "link")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o640))
	must(unix.Mknod(filepath.Join(src, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(unix.Setxattr(filepath.Join(src, "sub/deep/f"), "user.note", []byte("kept"), 0))
	old := int64(1_000_000_000)
	must(unix.UtimesNano(filepath.Join(src, "sub"), []unix.Timespec{unix.NsecToTimespec(old), unix.NsecToTimespec(old)}))

	must(copyTree(dst, src))

	stat := func(p string) unix.Stat_t {
		t.Helper()
		var st unix.Stat_t
		must(unix.Lstat(filepath.Join(dst, p), &st))
		return st
	}
	if st := stat("."); st.Mode&0o7777 != 0o750 || st.Uid != 999 || st.Gid != 998 {
		t.Errorf("root: mode %o owner %d:%d, want 750 999:998", st.Mode&0o7777, st.Uid, st.Gid)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "sub/deep/f")); !bytes.Equal(b, []byte("data")) {
		t.Errorf("sub/deep/f = %q", b)
	}
	if st := stat("sub/deep/f"); st.Uid != 1234 || st.Gid != 5678 || st.Mode&0o7777 != 0o600 {
		t.Errorf("sub/deep/f: mode %o owner %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
	}
	if st := stat("suid"); st.Mode&0o7777 != 0o4755 || st.Uid != 1000 {
		t.Errorf("suid: mode %o owner %d (setuid must survive the chown)", st.Mode&0o7777, st.Uid)
	}
	if a, b := stat("suid"), stat("hard"); a.Ino != b.Ino {
		t.Error("the hard link became a copy")
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "sub/deep/f" {
		t.Errorf("link -> %q, %v", l, err)
	}
	if st := stat("fifo"); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo has type %o", st.Mode&unix.S_IFMT)
	}
	if st := stat("null"); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("null: type %o rdev %d", st.Mode&unix.S_IFMT, st.Rdev)
	}
	buf := make([]byte, 16)
	if n, err := unix.Getxattr(filepath.Join(dst, "sub/deep/f"), "user.note", buf); err != nil || string(buf[:n]) != "kept" {
		t.Errorf("xattr user.note = %q, %v", buf[:n], err)
	}
	if st := stat("sub"); st.Mtim.Nano() != old {
		t.Errorf("sub's mtime %d, want %d (set after its entries)", st.Mtim.Nano(), old)
	}
}

func TestUncoveredVolumesSkipsPathsACRIMountHas(t *testing.T) {
	got := uncoveredVolumes([]string{"/data", "/var/lib/db/", "logs", "/"}, nil)
	want := []string{"/data", "/var/lib/db", "/logs"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
