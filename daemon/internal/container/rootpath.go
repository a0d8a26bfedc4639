package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// maxSymlinks bounds the symlinks followed while resolving one path.
const maxSymlinks = 255

// resolveInRoot resolves p (taken as relative to root, whether or not it
// starts with "/") inside root as if root were "/": ".." stops at root and
// symlinks, absolute or relative, are followed within root. It returns a
// host path under root with no symlink left in it; the part that does not
// exist is joined as it is. Use it only on trees nobody else writes while
// the result is used (a read-only image view or rootfs).
func resolveInRoot(root, p string) (string, error) {
	var done []string
	todo := splitPath(p)
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := filepath.Join(append([]string{root}, append(done, c)...)...)
		fi, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			done = append(done, c)
			done = append(done, todo...)
			return filepath.Join(append([]string{root}, clean(done)...)...), nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("resolve %q: too many symlinks: %w", p, errdefs.ErrInvalidArgument)
		}
		target, err := os.Readlink(cur)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			done = nil
		}
		todo = append(splitPath(target), todo...)
	}
	return filepath.Join(append([]string{root}, done...)...), nil
}

func splitPath(p string) []string { return strings.Split(filepath.ToSlash(p), "/") }

// clean drops "" and "." and applies ".." lexically within the list, for
// the part of a path that does not exist (no symlinks can be in it).
func clean(parts []string) []string {
	var out []string
	for _, c := range parts {
		switch c {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return out
}
