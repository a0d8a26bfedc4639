package shim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OpenLog creates the `log` FIFO in a bundle and opens its read end, as
// containerd does before `start`: the serving shim writes its logs there.
// Copy them with CopyLog; Close when the shim is gone.
func OpenLog(bundle string) (*os.File, error) {
	path := filepath.Join(bundle, "log")
	if err := unix.Mkfifo(path, 0o600); err != nil && err != unix.EEXIST {
		return nil, fmt.Errorf("shim log fifo: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("shim log fifo: %w", err)
	}
	return f, nil
}

// CopyLog copies the shim's log lines to w, each prefixed, until the log
// is closed or every writer is gone after one wrote.
func CopyLog(log io.Reader, w io.Writer, prefix string) {
	sc := bufio.NewScanner(log)
	for sc.Scan() {
		fmt.Fprintf(w, "%s%s\n", prefix, sc.Bytes())
	}
}
