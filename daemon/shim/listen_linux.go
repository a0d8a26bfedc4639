package shim

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ListenUnix listens on a filesystem unix socket with mode 0600: runletd's
// CRI socket and its shim events socket. A missing directory is created
// 0700; an existing one (the state directory, already 0700, or one the
// administrator chose) keeps its mode. A socket nothing accepts on (what a
// killed runletd leaves) is replaced, the same rule as RemoveDeadSocket's;
// a live one or any other file is an error.
func ListenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if st, err := os.Lstat(path); err == nil && st.Mode().Type() != os.ModeSocket {
		return nil, fmt.Errorf("%s exists and is not a socket", path)
	}
	if err := RemoveDeadSocket("unix://" + path); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s is in use: another runletd serves it", path)
	}
	old := unix.Umask(0o177) // the socket is born 0600, never briefly wider
	lis, err := net.Listen("unix", path)
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, err
	}
	return lis, nil
}
