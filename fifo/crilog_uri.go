package fifo

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// CRILogScheme names a CRI log file as a process' stdout and stderr, for
// a shim that writes the log itself:
// crilog:///var/log/pods/<pod>/<ctr>/0.log?beneath=/var/log/pods/<pod>.
// The optional beneath query is the pod's log directory: the file is then
// opened beneath it (see [OpenLogIn]); without it, beneath its parent.
const CRILogScheme = "crilog"

// CRILogURI names the CRI log rel inside the pod's log directory dir.
func CRILogURI(dir, rel string) string {
	u := url.URL{Scheme: CRILogScheme, Path: filepath.Join(dir, rel), RawQuery: url.Values{"beneath": {dir}}.Encode()}
	return u.String()
}

// ParseCRILogURI returns the directory and the path inside it that a
// crilog:// name designates; ok is false for other names.
func ParseCRILogURI(name string) (dir, rel string, ok bool, err error) {
	if !strings.HasPrefix(name, CRILogScheme+"://") {
		return "", "", false, nil
	}
	u, err := url.Parse(name)
	if err != nil || !filepath.IsAbs(u.Path) || filepath.Clean(u.Path) != u.Path {
		return "", "", true, fmt.Errorf("CRI log %q needs a clean absolute path: %w", name, errdefs.ErrInvalidArgument)
	}
	dir = u.Query().Get("beneath")
	if dir == "" {
		return filepath.Dir(u.Path), filepath.Base(u.Path), true, nil
	}
	if rel, err = filepath.Rel(dir, u.Path); err != nil || !filepath.IsAbs(dir) || !filepath.IsLocal(rel) || rel == "." {
		return "", "", true, fmt.Errorf("CRI log %q is not beneath %q: %w", u.Path, dir, errdefs.ErrInvalidArgument)
	}
	return dir, rel, true, nil
}

// OpenLogURI opens the CRI log a crilog:// name designates (see
// [CRILogScheme]), beneath its directory.
func OpenLogURI(name string) (*LogWriter, error) {
	dir, rel, ok, err := ParseCRILogURI(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%q is not a %s:// name: %w", name, CRILogScheme, errdefs.ErrInvalidArgument)
	}
	return OpenLogIn(dir, rel)
}

// SplitLogPath returns path, a CRI log confined to the pod's log
// directory dir (by [ConfinedPath], which resolves dir's own symlinks), as
// the directory to open and the path beneath it.
func SplitLogPath(dir, path string) (root, rel string, err error) {
	if root, err = filepath.EvalSymlinks(dir); err != nil {
		return "", "", wrapOS("log directory", err)
	}
	if rel, err = filepath.Rel(root, path); err != nil || !filepath.IsLocal(rel) || rel == "." {
		return "", "", fmt.Errorf("log %q is not beneath %q: %w", path, dir, errdefs.ErrInvalidArgument)
	}
	return root, rel, nil
}
