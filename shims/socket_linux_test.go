package shims

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSocketPathIsStablePerGroupAndFitsSunPath(t *testing.T) {
	dir := "/run/runlet/s"
	a, err := socketPath(dir, "/run/runlet/runlet.sock", "k8s.io", "pod1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := socketPath(dir, "/run/runlet/runlet.sock", "k8s.io", "pod1")
	c, _ := socketPath(dir, "/run/runlet/runlet.sock", "k8s.io", "pod2")
	d, _ := socketPath(dir, "/run/other.sock", "k8s.io", "pod1")
	if a != b || a == c || a == d {
		t.Fatalf("paths %s %s %s %s", a, b, c, d)
	}
	if len(a) > maxSocketPath || !strings.HasPrefix(a, dir+"/") {
		t.Fatalf("path %q", a)
	}
	if _, err := socketPath("/"+strings.Repeat("d", 100), "a", "n", "g"); err == nil {
		t.Fatal("a socket path beyond sun_path was accepted")
	}
}

func TestListenMakesPrivateSocketAndDetectsLiveOne(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	path := filepath.Join(dir, "sock")
	ln, err := listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	assertMode(t, dir, os.ModeDir|0o700)
	assertMode(t, path, os.ModeSocket|0o600)
	if _, err := listen(path); !errors.Is(err, errAddressInUse) {
		t.Fatalf("second listen on a live socket: %v", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	ln, err := listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // the file stays: nobody serves it any more
	ln, err = listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln.Close()
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Fatalf("%s mode %v, want %v", path, got, want)
	}
}
