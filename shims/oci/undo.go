package oci

import "context"

// undoStack collects the steps that reverse a partly done operation; run
// performs them newest first.
type undoStack []func(context.Context)

func (u *undoStack) push(f func(context.Context)) { *u = append(*u, f) }

func (u *undoStack) run(ctx context.Context) {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i](ctx)
	}
	*u = nil
}
