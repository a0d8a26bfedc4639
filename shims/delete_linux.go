package shims

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/shims/oci"
)

// deleteTask is the `delete` action: the daemon runs it when a shim is
// gone, to clean up the task and learn how it ended.
func deleteTask(ctx context.Context, cfg Config, f *flags, stdout io.Writer) error {
	resp, err := oci.Cleanup(ctx, cfg.RuntimeBinary, f.namespace, f.id, f.bundle)
	if err != nil {
		return err
	}
	removeDeadSocket(f.bundle)
	b, err := proto.Marshal(resp)
	if err != nil {
		return fmt.Errorf("marshal delete response: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}

// removeDeadSocket removes the socket of the bundle's shim (named in its
// `address` file) when no shim serves it any more: a shim that was killed
// could not remove it itself.
func removeDeadSocket(bundle string) {
	b, err := os.ReadFile(filepath.Join(bundle, "address"))
	if err != nil {
		return
	}
	path := strings.TrimPrefix(strings.TrimSpace(string(b)), "unix://")
	if filepath.Dir(path) != socketDir("") {
		return // only our own sockets, whatever the file says
	}
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSocket != 0 && !isLive(path) {
		_ = os.Remove(path)
	}
}
