package shims

import (
	"context"
	"fmt"
	"io"

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
	b, err := proto.Marshal(resp)
	if err != nil {
		return fmt.Errorf("marshal delete response: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}
