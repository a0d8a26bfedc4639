package fifo

import (
	"errors"
	"os"
	"syscall"
)

// Set names the stdio FIFOs of one container or exec process. An empty path
// means the stream is unused (the process gets /dev/null).
type Set struct {
	Dir    string
	Stdin  string
	Stdout string
	Stderr string
	// Terminal is true when the process has a TTY: its stderr is merged
	// into stdout and Stderr is empty.
	Terminal bool
}

// paths lists the set's non-empty FIFO paths.
func (s *Set) paths() []string {
	var out []string
	for _, p := range []string{s.Stdin, s.Stdout, s.Stderr} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Close removes the set's FIFOs, and its directory when that is left empty.
// Removing what is already gone is not an error. Open ends stay usable until
// their owners close them.
func (s *Set) Close() error {
	var errs []error
	for _, p := range s.paths() {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, wrapOS("remove fifo", err))
		}
	}
	if s.Dir != "" {
		err := os.Remove(s.Dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
			errs = append(errs, wrapOS("remove fifo dir", err))
		}
	}
	return errors.Join(errs...)
}
