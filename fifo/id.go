package fifo

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// maxIDLen bounds an id, which becomes part of a file name.
const maxIDLen = 128

// validateID rejects an id that cannot safely be part of a file name.
func validateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("fifo id is empty: %w", errdefs.ErrInvalidArgument)
	case len(id) > maxIDLen:
		return fmt.Errorf("fifo id is %d bytes, over %d: %w", len(id), maxIDLen, errdefs.ErrInvalidArgument)
	case strings.ContainsAny(id, "/\x00"):
		return fmt.Errorf("fifo id %q contains '/' or NUL: %w", id, errdefs.ErrInvalidArgument)
	case strings.Contains(id, ".."):
		return fmt.Errorf("fifo id %q contains '..': %w", id, errdefs.ErrInvalidArgument)
	}
	return nil
}
