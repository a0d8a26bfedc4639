package shimmgr

import (
	"errors"

	"github.com/containerd/ttrpc"
)

// isClosed reports an error of a call whose shim went away mid-call (the
// usual end of a Shutdown).
func isClosed(err error) bool {
	return errors.Is(err, ttrpc.ErrClosed)
}
