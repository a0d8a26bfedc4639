package cri

import (
	"context"
	"errors"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus is the single place where an error becomes a gRPC status: the
// errdefs class picks the code, the message is kept whole.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codeOf(err), err.Error())
}

var classes = []struct {
	is   func(error) bool
	code codes.Code
}{
	{errdefs.IsInvalidArgument, codes.InvalidArgument},
	{errdefs.IsNotFound, codes.NotFound},
	{errdefs.IsAlreadyExists, codes.AlreadyExists},
	{errdefs.IsFailedPrecondition, codes.FailedPrecondition},
	{errdefs.IsConflict, codes.FailedPrecondition},
	{errdefs.IsUnavailable, codes.Unavailable},
	{errdefs.IsUnauthorized, codes.Unauthenticated},
	{errdefs.IsPermissionDenied, codes.PermissionDenied},
	{errdefs.IsNotImplemented, codes.Unimplemented},
	{errdefs.IsResourceExhausted, codes.ResourceExhausted},
	{errdefs.IsOutOfRange, codes.OutOfRange},
	{errdefs.IsAborted, codes.Aborted},
	{errdefs.IsDataLoss, codes.DataLoss},
	{errdefs.IsInternal, codes.Internal},
}

func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	}
	for _, c := range classes {
		if c.is(err) {
			return c.code
		}
	}
	// No class claims it: a fault inside runletd or below it (the file
	// system, a runtime). Internal says so; Unknown would tell kubelet
	// nothing.
	return codes.Internal
}

func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	err = toStatus(err)
	s.logCall(ctx, info.FullMethod, start, err)
	return resp, err
}

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := toStatus(handler(srv, ss))
	s.logCall(ss.Context(), info.FullMethod, start, err)
	return err
}

func (s *Server) logCall(ctx context.Context, method string, start time.Time, err error) {
	if err != nil {
		s.log.InfoContext(ctx, "cri call failed", "method", method, "code", status.Code(err).String(), "err", err, "took", time.Since(start))
		return
	}
	s.log.DebugContext(ctx, "cri call", "method", method, "took", time.Since(start))
}
