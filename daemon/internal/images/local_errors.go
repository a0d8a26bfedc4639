package images

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/containerd/errdefs"
)

// classifyLocal gives an error of runletd's own disk work a class: out of
// space, quota, descriptors or memory is ResourceExhausted, anything else
// without a class Internal. Classified errors and cancellations keep theirs.
func classifyLocal(err error) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), hasClass(err):
		return err
	}
	for _, errno := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM} {
		if errors.Is(err, errno) {
			return fmt.Errorf("%w: %w", err, errdefs.ErrResourceExhausted)
		}
	}
	return fmt.Errorf("%w: %w", err, errdefs.ErrInternal)
}
