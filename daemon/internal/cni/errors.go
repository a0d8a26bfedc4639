package cni

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
)

// classified keeps an error's message and adds an errdefs class that
// errors.Is finds, without appending the class's name to the message.
type classified struct {
	err   error
	class error
}

func (c *classified) Error() string   { return c.err.Error() }
func (c *classified) Unwrap() []error { return []error{c.err, c.class} }

func withClass(err, class error) error {
	return &classified{err: err, class: class}
}

// pluginError describes a failed ADD or DEL. When the context ended, its
// error is the class (errdefs.IsDeadlineExceeded / IsCanceled) and is named
// in the message; anything else a plugin says is errdefs.ErrUnknown.
func pluginError(ctx context.Context, op string, p PodNetwork, cfg *netConfig, err error) error {
	err = fmt.Errorf("cni: %s pod %s on network %q (%s): %w", op, p.ID, cfg.list.Name, cfg.file, err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w (%w)", err, ctxErr)
	}
	return withClass(err, errdefs.ErrUnknown)
}
