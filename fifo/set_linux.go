package fifo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// fifoMode is the permission of every FIFO a Set creates.
const fifoMode = 0o600

// NewSet creates the FIFOs for process id in dir (created 0700 if missing):
// ID-stdout always, ID-stderr unless terminal, ID-stdin only when stdin is
// true. An invalid id fails with errdefs.ErrInvalidArgument; an existing
// FIFO with errdefs.ErrAlreadyExists. On failure nothing is left behind
// except dir.
func NewSet(dir, id string, stdin, terminal bool) (*Set, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, wrapOS("create fifo dir", err)
	}
	s := &Set{Dir: dir, Terminal: terminal, Stdout: filepath.Join(dir, id+"-stdout")}
	if stdin {
		s.Stdin = filepath.Join(dir, id+"-stdin")
	}
	if !terminal {
		s.Stderr = filepath.Join(dir, id+"-stderr")
	}
	if err := s.mkfifos(); err != nil {
		return nil, err
	}
	return s, nil
}

// mkfifos creates the set's FIFOs, removing those it made when one fails.
func (s *Set) mkfifos() error {
	var made []string
	for _, p := range s.paths() {
		if err := mkfifo(p); err != nil {
			for _, m := range made {
				_ = os.Remove(m)
			}
			return err
		}
		made = append(made, p)
	}
	return nil
}

// mkfifo creates a FIFO with exactly fifoMode, whatever the umask.
func mkfifo(path string) error {
	if err := unix.Mkfifo(path, fifoMode); err != nil {
		return wrapOS("mkfifo "+path, err)
	}
	if err := os.Chmod(path, fifoMode); err != nil {
		return errors.Join(wrapOS("chmod fifo", err), os.Remove(path))
	}
	return nil
}

// isFIFO reports whether path names a FIFO, without following a symlink.
func isFIFO(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return wrapOS("stat fifo", err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		return fmt.Errorf("%s is a %v, not a fifo: %w", path, fi.Mode().Type(), errdefs.ErrInvalidArgument)
	}
	return nil
}
