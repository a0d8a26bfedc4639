package shim

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// RemoveDeadSocket removes the unix socket a shim served at address once
// nothing accepts connections there any more: a shim killed with -9 leaves
// it (containerd 1.6's `delete` does not remove it). Only a socket file is
// ever removed, whatever the address names; a live one is left alone.
func RemoveDeadSocket(address string) error {
	path := strings.TrimPrefix(address, "unix://")
	if !strings.HasPrefix(path, "/") {
		return nil // abstract or not a path: nothing on disk
	}
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("shim address %s is not a socket: left alone", path)
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return nil // a shim serves it
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Gone reports whether a failed connection to a shim proves it is gone:
// nothing listens at its socket, or the socket is not there. Any other
// failure (a full descriptor table, a timeout, a cancelled context) proves
// nothing about the shim.
func Gone(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}
