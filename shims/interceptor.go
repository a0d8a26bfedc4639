package shims

import (
	"context"

	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
)

// serverInterceptor is the one place where a task service's errors, which
// are classified with errdefs, become status codes on the wire (NotFound,
// AlreadyExists, FailedPrecondition, ...), as containerd's shims send
// them. It also re-arms the idle trimmer after each call.
func serverInterceptor(trim *trimmer) ttrpc.UnaryServerInterceptor {
	return func(ctx context.Context, u ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, h ttrpc.Method) (interface{}, error) {
		resp, err := h(ctx, u)
		trim.arm()
		if err != nil {
			return nil, errgrpc.ToGRPC(err)
		}
		return resp, nil
	}
}
