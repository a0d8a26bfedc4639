package fifo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// openat2Tries bounds the retries of an openat2 that a concurrent rename
// keeps interrupting.
const openat2Tries = 16

// openBeneath opens rel inside dir in one step: openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, so no component of rel may be a
// symlink or "..", and a directory swapped for a symlink after any check
// cannot send the open elsewhere. dir itself (the pod's log directory,
// made by the kubelet) is opened as named.
func openBeneath(dir, rel string, flags int, mode uint32) (*os.File, error) {
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("log %q is not a path inside %q: %w", rel, dir, errdefs.ErrInvalidArgument)
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wrapOS("open log directory "+dir, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(dfd)
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC | unix.O_NOCTTY), Mode: uint64(mode),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
	var fd int
	for try := 0; try < openat2Tries; try++ { // EAGAIN: a rename raced the lookup
		if fd, err = unix.Openat2(dfd, rel, how); !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			break
		}
	}
	switch {
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return nil, fmt.Errorf("log %q in %q: a symlink or a way out of the directory is on its path: %w", rel, dir, errdefs.ErrInvalidArgument)
	case err != nil:
		return nil, wrapOS("open log", &os.PathError{Op: "openat2", Path: filepath.Join(dir, rel), Err: err})
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, rel)), nil
}

// openLogFile opens rel in dir for appending records, creating it.
func openLogFile(dir, rel string) (*os.File, error) {
	return openBeneath(dir, rel, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT, logFileMode)
}

// OpenLogReader opens the CRI log rel inside dir for reading, resolving
// it beneath dir as the writers do (for a follower of the log).
func OpenLogReader(dir, rel string) (*os.File, error) {
	return openBeneath(dir, rel, unix.O_RDONLY, 0)
}
