package shims

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
)

// serverInterceptor is the one place where a task service's errors, which
// are classified with errdefs, become status codes on the wire (NotFound,
// AlreadyExists, FailedPrecondition, ...), as containerd's shims send
// them. It turns a panic in a handler into an Internal error, since ttrpc
// does not recover one and the shim serves every container of its pod.
// Every call but Wait runs to its end when its caller goes away (detach).
// It also re-arms the idle trimmer after each call.
func serverInterceptor(trim *trimmer) ttrpc.UnaryServerInterceptor {
	return func(ctx context.Context, u ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, h ttrpc.Method) (interface{}, error) {
		ctx, cancel := detach(ctx, info.FullMethod)
		defer cancel()
		resp, err := recoverCall(ctx, u, info, h)
		trim.arm()
		if err != nil {
			return nil, errgrpc.ToGRPC(err)
		}
		return resp, nil
	}
}

// detachedCallTimeout bounds a call that no longer follows its caller.
const detachedCallTimeout = 2 * time.Minute

// detach lets a call, once taken, run to its end even when its caller goes
// away: ttrpc cancels a request's context when the connection closes, and
// a daemon killed in the middle of Delete would otherwise kill the
// runtime's delete half-way (the container gone from the runtime, its
// cgroup left). Only Wait, which blocks until an exit by design, keeps
// following its caller.
func detach(ctx context.Context, method string) (context.Context, context.CancelFunc) {
	if strings.HasSuffix(method, "/Wait") {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), detachedCallTimeout)
}

// recoverCall runs the handler; a panic is logged with its stack and
// answered as an Internal error.
func recoverCall(ctx context.Context, u ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, h ttrpc.Method) (resp interface{}, err error) {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("recovered a panic in a request handler", "method", info.FullMethod, "panic", v, "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("%s panicked: %v: %w", info.FullMethod, v, errdefs.ErrInternal)
		}
	}()
	return h(ctx, u)
}
