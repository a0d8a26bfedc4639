package oci

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// stdio names where a process' streams go, as the client gave them: FIFO
// paths (containerd's convention), file:// URIs, or "" for /dev/null.
type stdio struct {
	stdin, stdout, stderr string
	terminal              bool
}

// outputTarget resolves an output stream name to a path and whether it is
// a FIFO (else a file to append to).
func outputTarget(name string) (path string, isFIFO bool, err error) {
	if strings.Contains(name, "://") {
		u, err := url.Parse(name)
		if err != nil {
			return "", false, fmt.Errorf("stdio %q: %v: %w", name, err, errdefs.ErrInvalidArgument)
		}
		if u.Scheme != "file" {
			return "", false, fmt.Errorf("stdio scheme %q: %w", u.Scheme, errdefs.ErrNotImplemented)
		}
		return u.Path, false, nil
	}
	st, err := os.Stat(name)
	if err != nil {
		return "", false, fmt.Errorf("stdio %q: %w", name, errdefs.ErrNotFound)
	}
	return name, st.Mode()&os.ModeNamedPipe != 0, nil
}

// CRILogScheme names a CRI log file as a process' stdout and stderr:
// crilog:///var/log/pods/<pod>/<container>/0.log. The shim writes the
// kubelet's log format itself, as conmon does for CRI-O, so output keeps
// flowing to the file while no daemon is there to copy it.
const CRILogScheme = "crilog"

// criLogPath returns the file a crilog:// name designates.
func criLogPath(name string) (string, bool, error) {
	if !strings.HasPrefix(name, CRILogScheme+"://") {
		return "", false, nil
	}
	u, err := url.Parse(name)
	if err != nil || !filepath.IsAbs(u.Path) || filepath.Clean(u.Path) != u.Path {
		return "", true, fmt.Errorf("CRI log %q needs a clean absolute path: %w", name, errdefs.ErrInvalidArgument)
	}
	return u.Path, true, nil
}
