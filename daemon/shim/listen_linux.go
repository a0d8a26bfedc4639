package shim

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
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
	return listenPrivate(path)
}

// listenPrivate binds the socket under a temporary name, makes it 0600
// and only then renames it to path: no client can reach it while it is
// wider, and no process-wide umask is changed under runletd's other
// goroutines and children.
func listenPrivate(path string) (net.Listener, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%d", os.Getpid())) // no longer than most names
	_ = os.Remove(tmp)
	lis, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	lis.(*net.UnixListener).SetUnlinkOnClose(false) // its name changes below
	if err := os.Chmod(tmp, 0o600); err != nil {
		lis.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		lis.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	return &unlinkOnClose{Listener: lis, path: path}, nil
}

// unlinkOnClose removes the socket's final name when the listener closes.
type unlinkOnClose struct {
	net.Listener
	path string
	once sync.Once
}

func (l *unlinkOnClose) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { os.Remove(l.path) })
	return err
}
