package bundle

import (
	"fmt"
	"regexp"

	"github.com/containerd/errdefs"
)

// MaxIDLength is the longest identifier ValidateID accepts; it matches
// containerd's identifiers package.
const MaxIDLength = 76

// idPattern is containerd's identifier grammar: alphanumeric runs joined by
// single '.', '_' or '-' separators. It excludes "", ".", ".." and '/', so an
// identifier is always a single, harmless path element.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

// ValidateID reports whether id may name a bundle, a namespace or any other
// path element. Invalid identifiers yield errdefs.ErrInvalidArgument.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("identifier must not be empty: %w", errdefs.ErrInvalidArgument)
	case len(id) > MaxIDLength:
		return fmt.Errorf("identifier %q longer than %d characters: %w", id, MaxIDLength, errdefs.ErrInvalidArgument)
	case !idPattern.MatchString(id):
		return fmt.Errorf("identifier %q must match %s: %w", id, idPattern, errdefs.ErrInvalidArgument)
	}
	return nil
}
