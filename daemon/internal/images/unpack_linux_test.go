package images

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/config"
	"golang.org/x/sys/unix"
)

func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root (chown, mknod, trusted xattrs): skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

var mtime = time.Date(2020, 2, 2, 2, 2, 2, 0, time.UTC)

func layerTar(t *testing.T, hdrs ...*tar.Header) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.ModTime.IsZero() {
			h.ModTime = mtime
		}
		if h.Typeflag == tar.TypeReg && h.Size == 0 && h.Linkname != "" {
			h.Size = int64(len(h.Linkname)) // content smuggled in Linkname for brevity
		}
		content := ""
		if h.Typeflag == tar.TypeReg {
			content, h.Linkname = h.Linkname, ""
		}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	return bytes.NewReader(buf.Bytes())
}

func file(name, content string, mode int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Linkname: content}
}

// unpackInto unpacks into dir/layer and returns the layer dir; dir/outside
// is a sibling that no entry may touch.
func unpackInto(t *testing.T, r *bytes.Reader) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	layer, outside := filepath.Join(dir, "layer"), filepath.Join(dir, "outside")
	for _, d := range []string{layer, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	return layer, outside, unpackLayer(context.Background(), r, layer, config.DefaultImageLimits())
}

func TestUnpackKeepsFilesModesOwnersTimesLinksAndDevices(t *testing.T) {
	needRoot(t)
	layer, _, err := unpackInto(t, layerTar(t,
		&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		file("bin/tool", "#!/bin/sh\n", 0o4755),
		&tar.Header{Name: "bin/alias", Typeflag: tar.TypeSymlink, Linkname: "tool"},
		&tar.Header{Name: "bin/abs", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		&tar.Header{Name: "bin/hard", Typeflag: tar.TypeLink, Linkname: "bin/tool"},
		&tar.Header{Name: "home/user/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 1000, Gid: 1000},
		&tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		&tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo, Mode: 0o600},
		&tar.Header{Name: "cap", Typeflag: tar.TypeReg, Mode: 0o755, PAXRecords: map[string]string{"SCHILY.xattr.user.note": "hello"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	mustLstat(t, filepath.Join(layer, "bin/tool"), &st)
	if st.Mode&0o7777 != 0o4755 || st.Nlink != 2 || st.Mtim.Sec != mtime.Unix() {
		t.Fatalf("bin/tool mode %o nlink %d mtime %d", st.Mode&0o7777, st.Nlink, st.Mtim.Sec)
	}
	if target, _ := os.Readlink(filepath.Join(layer, "bin/abs")); target != "/etc/passwd" {
		t.Fatalf("absolute symlink stored as %q", target)
	}
	mustLstat(t, filepath.Join(layer, "home/user"), &st)
	if st.Uid != 1000 || st.Gid != 1000 || st.Mode&0o777 != 0o700 || st.Mtim.Sec != mtime.Unix() {
		t.Fatalf("home/user uid %d gid %d mode %o mtime %d", st.Uid, st.Gid, st.Mode&0o777, st.Mtim.Sec)
	}
	mustLstat(t, filepath.Join(layer, "dev/null"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		t.Fatalf("dev/null mode %o rdev %d", st.Mode, st.Rdev)
	}
	mustLstat(t, filepath.Join(layer, "run/fifo"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Fatalf("run/fifo mode %o", st.Mode)
	}
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(filepath.Join(layer, "cap"), "user.note", buf)
	if err != nil && err != unix.ENOTSUP {
		t.Fatal(err)
	}
	if err == nil && string(buf[:n]) != "hello" {
		t.Fatalf("xattr user.note = %q", buf[:n])
	}
}

func TestUnpackTurnsWhiteoutsIntoOverlayWhiteouts(t *testing.T) {
	needRoot(t)
	layer, _, err := unpackInto(t, layerTar(t,
		&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		file("etc/.wh.removed", "", 0o644),
		&tar.Header{Name: "var/cache/", Typeflag: tar.TypeDir, Mode: 0o755},
		file("var/cache/.wh..wh..opq", "", 0o644),
		file("var/cache/fresh", "new", 0o644),
		&tar.Header{Name: ".wh..wh..plnk/", Typeflag: tar.TypeDir, Mode: 0o700},
		file(".wh..wh..plnk/123.456", "aufs hardlink store", 0o644),
	))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	mustLstat(t, filepath.Join(layer, "etc/removed"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Fatalf("whiteout is mode %o rdev %d, want a 0:0 character device", st.Mode, st.Rdev)
	}
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(filepath.Join(layer, "var/cache"), opaqueXattr, buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Fatalf("opaque xattr = %q, %v", buf[:n], err)
	}
	for _, marker := range []string{"etc/.wh.removed", "var/cache/.wh..wh..opq", ".wh..wh..plnk", ".wh..plnk"} {
		if _, err := os.Lstat(filepath.Join(layer, marker)); !os.IsNotExist(err) {
			t.Fatalf("marker %s was written as a file", marker)
		}
	}
}

// Every case tries to reach dir/outside from dir/layer (CVE-2021-32760 and
// its relatives: dot-dot names, symlinked parents, links out, chmod through links).
func TestUnpackRefusesEveryEntryThatEscapesTheLayer(t *testing.T) {
	needRoot(t)
	cases := map[string][]*tar.Header{
		"dot-dot name":   {file("../outside/secret", "pwned", 0o644)},
		"nested dot-dot": {file("a/../../outside/secret", "pwned", 0o644)},
		"write through an absolute symlink": {
			{Name: "out", Typeflag: tar.TypeSymlink, Linkname: "/"},
			file("out/etc/pwned", "pwned", 0o644)},
		"write through a relative symlink": {
			{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
			file("up/secret", "pwned", 0o644)},
		"hardlink out of the layer": {{Name: "h", Typeflag: tar.TypeLink, Linkname: "../outside/secret"}},
		"whiteout through a symlink": {
			{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
			file("up/.wh.secret", "", 0o644)},
		"opaque marker through a symlink": {
			{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
			file("up/.wh..wh..opq", "", 0o644)},
		"device through a symlink": {
			{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
			{Name: "up/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		"whiteout of dot-dot": {file("a/.wh...", "", 0o644)},
		"whiteout of nothing": {file("a/.wh.", "", 0o644)},
		"whiteout of dot":     {file(".wh..", "", 0o644)},
		"directory through a symlink": {
			{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
			{Name: "up/newdir/", Typeflag: tar.TypeDir, Mode: 0o777}},
	}
	for name, hdrs := range cases {
		t.Run(name, func(t *testing.T) {
			_, outside, err := unpackInto(t, layerTar(t, hdrs...))
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			entries, _ := os.ReadDir(outside)
			b, _ := os.ReadFile(filepath.Join(outside, "secret"))
			var st unix.Stat_t
			mustLstat(t, filepath.Join(outside, "secret"), &st)
			if len(entries) != 1 || string(b) != "keep" || st.Mode&0o777 != 0o600 {
				t.Fatalf("outside changed: %d entries, secret %q mode %o", len(entries), b, st.Mode&0o777)
			}
		})
	}
}

func TestUnpackDoesNotChmodThroughAReplacedSymlink(t *testing.T) {
	needRoot(t)
	// A symlink to outside, then a directory entry of the same name: the
	// directory replaces the link; the target outside keeps its mode.
	layer, outside, err := unpackInto(t, layerTar(t,
		&tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "../outside/secret"},
		&tar.Header{Name: "x", Typeflag: tar.TypeDir, Mode: 0o777},
		file("y", "data", 0o644),
		&tar.Header{Name: "y", Typeflag: tar.TypeSymlink, Linkname: "../outside/secret"},
	))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	mustLstat(t, filepath.Join(outside, "secret"), &st)
	if st.Mode&0o777 != 0o600 {
		t.Fatalf("outside/secret mode became %o", st.Mode&0o777)
	}
	mustLstat(t, filepath.Join(layer, "x"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Fatal("x is not the directory the later entry made")
	}
}

func mustLstat(t *testing.T, p string, st *unix.Stat_t) {
	t.Helper()
	if err := unix.Lstat(p, st); err != nil {
		t.Fatal(err)
	}
}
