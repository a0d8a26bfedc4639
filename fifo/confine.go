package fifo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// ConfinedPath joins rel to dir and returns the result with the symlinks of
// its existing components resolved, so that opening it cannot leave dir. It
// fails with errdefs.ErrInvalidArgument when rel escapes dir: by "..", as an
// absolute path outside dir, or through a symlink pointing out of dir. rel
// may name a file that does not exist yet. An absolute rel inside dir is
// accepted.
func ConfinedPath(dir, rel string) (string, error) {
	if rel == "" || strings.ContainsRune(rel, 0) || strings.ContainsRune(dir, 0) {
		return "", fmt.Errorf("path %q in %q: empty or contains NUL: %w", rel, dir, errdefs.ErrInvalidArgument)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", wrapOS("confine path", err)
	}
	target := rel
	if !filepath.IsAbs(rel) {
		target = filepath.Join(root, rel)
	}
	target = filepath.Clean(target)
	if !within(root, target) {
		return "", escapes(rel, dir)
	}
	realRoot, err := resolveExisting(root)
	if err != nil {
		return "", err
	}
	realTarget, err := resolveExisting(target)
	if err != nil {
		return "", err
	}
	if !within(realRoot, realTarget) {
		return "", escapes(rel, dir)
	}
	return realTarget, nil
}

// within reports whether path lies strictly below root; both are clean and
// absolute.
func within(root, path string) bool {
	rest, ok := strings.CutPrefix(path, root)
	if !ok {
		return false
	}
	return root == "/" && rest != "" || strings.HasPrefix(rest, "/") && len(rest) > 1
}

// resolveExisting resolves the symlinks of the longest existing prefix of
// the clean absolute path p and appends the components that do not exist.
// A dangling symlink on the way cannot be checked and is refused.
func resolveExisting(p string) (string, error) {
	var missing []string
	cur := p
	for {
		_, err := os.Lstat(cur)
		if err == nil {
			break
		}
		parent := filepath.Dir(cur)
		if !errors.Is(err, os.ErrNotExist) || parent == cur {
			return "", wrapOS("resolve "+p, err)
		}
		missing = append([]string{filepath.Base(cur)}, missing...)
		cur = parent
	}
	real, err := filepath.EvalSymlinks(cur)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("path %q: dangling symlink: %w", cur, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return "", wrapOS("resolve "+p, err)
	}
	return filepath.Join(append([]string{real}, missing...)...), nil
}

// escapes is the error for a path that leaves its directory.
func escapes(rel, dir string) error {
	return fmt.Errorf("path %q escapes %q: %w", rel, dir, errdefs.ErrInvalidArgument)
}
