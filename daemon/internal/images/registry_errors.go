package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// classified is an error whose message is complete and whose errdefs class
// is found by errors.Is, without repeating the class in the message.
type classified struct {
	msg   string
	class error
}

func (c *classified) Error() string { return c.msg }
func (c *classified) Unwrap() error { return c.class }

func classifiedf(class error, format string, args ...any) error {
	return &classified{msg: fmt.Sprintf(format, args...), class: class}
}

// classify turns a registry error into an errdefs class naming the host.
func classify(host string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return classifiedf(statusClass(te), "registry %s: %v", host, err)
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return classifiedf(errdefs.ErrUnavailable, "registry %s is unreachable: %v", host, err)
	}
	if errdefs.IsFailedPrecondition(err) || errors.Is(err, errPlainHTTP) {
		return classifiedf(errdefs.ErrFailedPrecondition, "registry %s: %v", host, err)
	}
	return classifiedf(errdefs.ErrUnavailable, "registry %s: %v", host, err)
}

func statusClass(te *transport.Error) error {
	for _, d := range te.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return errdefs.ErrNotFound
		case transport.UnauthorizedErrorCode:
			return errdefs.ErrUnauthenticated
		case transport.DeniedErrorCode:
			return errdefs.ErrPermissionDenied
		}
	}
	switch {
	case te.StatusCode == http.StatusNotFound:
		return errdefs.ErrNotFound
	case te.StatusCode == http.StatusUnauthorized:
		return errdefs.ErrUnauthenticated
	case te.StatusCode == http.StatusForbidden:
		return errdefs.ErrPermissionDenied
	case te.StatusCode == http.StatusTooManyRequests || te.StatusCode >= 500:
		return errdefs.ErrUnavailable
	}
	return errdefs.ErrUnknown
}

// joinEndpointErrors reports every endpoint tried. The class is the most
// telling one: an endpoint that answered "not found" beats unreachable ones.
func joinEndpointErrors(ref Reference, errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	var class error = errdefs.ErrUnavailable
	for _, c := range []error{errdefs.ErrNotFound, errdefs.ErrUnauthenticated, errdefs.ErrPermissionDenied,
		errdefs.ErrFailedPrecondition, errdefs.ErrInvalidArgument} {
		if anyIs(errs, c) {
			class = c
			break
		}
	}
	return classifiedf(class, "pull %s: %s", ref, strings.Join(msgs, "; "))
}

func anyIs(errs []error, target error) bool {
	for _, e := range errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// classifyFetch gives a blob fetch's error its class: errors that have one
// keep it, a blob whose content does not match its digest is DataLoss, and
// anything else went wrong on the way from the registry (Unavailable).
func classifyFetch(err error) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), hasClass(err):
		return err
	case errors.As(err, new(*transport.Error)):
		var te *transport.Error
		errors.As(err, &te)
		return classifiedf(statusClass(te), "%v", err)
	case strings.Contains(err.Error(), "error verifying"): // go-containerregistry's verify package
		return classifiedf(errdefs.ErrDataLoss, "%v", err)
	}
	return classifiedf(errdefs.ErrUnavailable, "%v", err)
}

// hasClass tells whether err already carries an errdefs class.
func hasClass(err error) bool {
	for _, c := range []error{errdefs.ErrInvalidArgument, errdefs.ErrNotFound, errdefs.ErrFailedPrecondition,
		errdefs.ErrUnavailable, errdefs.ErrUnauthenticated, errdefs.ErrPermissionDenied, errdefs.ErrDataLoss,
		errdefs.ErrNotImplemented, errdefs.ErrResourceExhausted, errdefs.ErrUnknown} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}
