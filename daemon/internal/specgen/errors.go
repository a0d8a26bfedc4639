package specgen

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// invalidf reports bad CRI input: errdefs.ErrInvalidArgument with the CRI
// field named first.
func invalidf(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

// unsupportedf reports a request this host or runtime cannot honour.
func unsupportedf(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), errdefs.ErrNotImplemented)
}
