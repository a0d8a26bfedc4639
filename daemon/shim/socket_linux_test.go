package shim

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveDeadSocketRemovesOnlyADeadSocket(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live")
	ln, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dead := filepath.Join(dir, "dead")
	l2, err := net.Listen("unix", dead)
	if err != nil {
		t.Fatal(err)
	}
	l2.(*net.UnixListener).SetUnlinkOnClose(false)
	l2.Close() // a killed shim's socket: the file stays, nothing listens
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{live, dead, file} {
		_ = RemoveDeadSocket("unix://" + p)
	}
	for p, want := range map[string]bool{live: true, dead: false, file: true} {
		if _, err := os.Lstat(p); (err == nil) != want {
			t.Errorf("%s exists %v after RemoveDeadSocket, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
