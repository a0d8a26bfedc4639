package shims

import (
	"context"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/shims/oci"
)

// printInfo is `-info`: runtime options (an Any) on stdin, RuntimeInfo on
// stdout.
func printInfo(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer) error {
	raw, err := readInput(stdin)
	if err != nil {
		return err
	}
	var opts *anypb.Any
	if len(raw) > 0 {
		opts = &anypb.Any{}
		if err := proto.Unmarshal(raw, opts); err != nil {
			return fmt.Errorf("runtime options are not a protobuf Any: %w", err)
		}
	}
	info, err := oci.Info(ctx, cfg.Name, Version, cfg.RuntimeBinary, opts, cfg.Features)
	if err != nil {
		return err
	}
	b, err := proto.Marshal(info)
	if err != nil {
		return fmt.Errorf("marshal runtime info: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}
