package fifo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/containerd/errdefs"
)

// wrapOS adds the errdefs class of an operating-system error, keeping the
// original error reachable with errors.Is and errors.As.
// Context errors keep their own class (errdefs.IsCanceled,
// errdefs.IsDeadlineExceeded).
func wrapOS(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, err, classOf(err))
}

// classOf maps an operating-system error to its errdefs class.
func classOf(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errdefs.ErrNotFound
	case errors.Is(err, os.ErrExist):
		return errdefs.ErrAlreadyExists
	case errors.Is(err, os.ErrPermission):
		return errdefs.ErrPermissionDenied
	case errors.Is(err, os.ErrClosed):
		return errdefs.ErrFailedPrecondition
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP):
		return errdefs.ErrInvalidArgument
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return errdefs.ErrResourceExhausted
	}
	return errdefs.ErrUnknown
}

// closeFile closes f, classifying a failure.
func closeFile(f *os.File) error {
	if err := f.Close(); err != nil {
		return wrapOS("close "+f.Name(), err)
	}
	return nil
}
