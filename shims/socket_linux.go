package shims

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

const (
	// DefaultSocketDir holds the serving sockets, 0700, root only.
	DefaultSocketDir = "/run/runlet/s"
	// maxSocketPath is sun_path's limit less its terminating NUL.
	maxSocketPath = 107
)

// socketDir is RUNLET_SHIM_SOCKET_DIR, else the bootstrap's socket dir,
// else DefaultSocketDir.
func socketDir(fromParams string) string {
	if d := os.Getenv("RUNLET_SHIM_SOCKET_DIR"); d != "" {
		return d
	}
	if fromParams != "" {
		return fromParams
	}
	return DefaultSocketDir
}

// socketPath names the socket of a shim group: a hash of the daemon's
// address, the namespace and the group id, so it always fits in sun_path
// and a second start for the same group finds the same socket.
func socketPath(dir, address, namespace, group string) (string, error) {
	h := sha256.Sum256([]byte(address + "\x00" + namespace + "\x00" + group))
	p := filepath.Join(dir, hex.EncodeToString(h[:16]))
	if len(p) > maxSocketPath {
		return "", fmt.Errorf("socket path %q is longer than %d bytes", p, maxSocketPath)
	}
	return p, nil
}

// listen binds a filesystem unix socket (never an abstract one) with mode
// 0600 in a 0700 directory. A stale socket nobody serves is replaced;
// errAddressInUse means a live shim serves the path.
func listen(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	// Racing starts of one group take turns: between another start's bind
	// and its listen, a connect is refused and the live socket would look
	// stale. The lock is the directory's own, so no file is left behind.
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer unlock()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if errors.Is(err, syscall.EADDRINUSE) {
		if isLive(path) {
			return nil, errAddressInUse
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
		ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		os.Remove(path)
		return nil, fmt.Errorf("socket mode: %w", err)
	}
	return ln, nil
}

var errAddressInUse = errors.New("a live shim serves this socket")

// isLive reports whether a shim accepts connections on path.
func isLive(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// lockDir takes an exclusive flock on a directory until unlock.
func lockDir(dir string) (unlock func(), err error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock socket directory: %w", err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("lock socket directory: %w", err)
	}
	return func() { syscall.Close(fd) }, nil
}
