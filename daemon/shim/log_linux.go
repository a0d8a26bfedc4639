package shim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/fifo"
)

// OpenLog creates the `log` FIFO in a bundle and opens its read end, as
// containerd does before `start`: the serving shim writes its logs there.
// Reads wait for the shim to open it and end when the shim exits. Copy
// them with CopyLog; Close when the shim is gone.
func OpenLog(ctx context.Context, bundle string) (io.ReadCloser, error) {
	path := filepath.Join(bundle, "log")
	if err := unix.Mkfifo(path, 0o600); err != nil && err != unix.EEXIST {
		return nil, fmt.Errorf("shim log fifo: %w", err)
	}
	return fifo.OpenReader(ctx, path)
}

// CopyLog copies the shim's log lines to w until the log is closed or
// every writer is gone after one wrote.
func CopyLog(log io.Reader, w io.Writer) {
	sc := bufio.NewScanner(log)
	for sc.Scan() {
		fmt.Fprintf(w, "%s\n", sc.Bytes())
	}
}
