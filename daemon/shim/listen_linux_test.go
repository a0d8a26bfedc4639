package shim

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenCreatesA0600SocketInANew0700Directory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "runlet.sock")
	lis, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", p, st.Mode().Perm(), want)
		}
	}
}

func TestListenLeavesAnExistingDirectoryMode(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	lis, err := ListenUnix(filepath.Join(dir, "runlet.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o755 {
		t.Fatalf("a directory runletd did not create became %o", st.Mode().Perm())
	}
}

func TestListenReplacesAStaleSocketButNotALiveOneOrAFile(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the file stays, nobody listens: what a crashed runletd leaves
	lis, err := ListenUnix(stale)
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	defer lis.Close()

	if _, err := ListenUnix(stale); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second listen on a live socket: %v", err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("data"), 0o600)
	if _, err := ListenUnix(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("listen over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "data" {
		t.Fatal("the regular file was replaced")
	}
}
