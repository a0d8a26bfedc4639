package cri

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatusMapsEveryErrdefsClassToItsCode(t *testing.T) {
	cases := map[error]codes.Code{
		errdefs.ErrInvalidArgument:    codes.InvalidArgument,
		errdefs.ErrNotFound:           codes.NotFound,
		errdefs.ErrAlreadyExists:      codes.AlreadyExists,
		errdefs.ErrFailedPrecondition: codes.FailedPrecondition,
		errdefs.ErrUnavailable:        codes.Unavailable,
		errdefs.ErrUnauthenticated:    codes.Unauthenticated,
		errdefs.ErrPermissionDenied:   codes.PermissionDenied,
		errdefs.ErrNotImplemented:     codes.Unimplemented,
		errdefs.ErrDataLoss:           codes.DataLoss,
		context.Canceled:              codes.Canceled,
		context.DeadlineExceeded:      codes.DeadlineExceeded,
		errors.New("plain"):           codes.Internal,
	}
	for class, want := range cases {
		err := toStatus(fmt.Errorf("pull x: registry y: %w", class))
		if got := status.Code(err); got != want {
			t.Errorf("%v: code %s, want %s", class, got, want)
		}
		if st, _ := status.FromError(err); st.Message() != fmt.Sprintf("pull x: registry y: %v", class) {
			t.Errorf("message changed: %q", st.Message())
		}
	}
	if toStatus(nil) != nil {
		t.Error("nil error became a status")
	}
	already := status.Error(codes.Unimplemented, "method X not implemented")
	if toStatus(already) != already {
		t.Error("a status error was rewrapped")
	}
}

func TestUserOfSplitsUidAndName(t *testing.T) {
	cases := []struct {
		user string
		uid  int64
		name string
	}{{"", -1, ""}, {"1002", 1002, ""}, {"1002:50000", 1002, ""}, {"www-data", -1, "www-data"}, {"nobody:nogroup", -1, "nobody"}, {"0", 0, ""}}
	for _, c := range cases {
		uid, name := userOf(c.user)
		got := int64(-1)
		if uid != nil {
			got = *uid
		}
		if got != c.uid || name != c.name {
			t.Errorf("userOf(%q) = %d %q, want %d %q", c.user, got, name, c.uid, c.name)
		}
	}
}
