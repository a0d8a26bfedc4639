package fifo

import (
	"os"

	"golang.org/x/sys/unix"
)

// logFileMode is the permission of a CRI log file the writer creates.
const logFileMode = 0o640

// openLogFile opens path for appending records, creating it, refusing a
// symlink as the last component.
func openLogFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, logFileMode)
	if err != nil {
		return nil, wrapOS("open cri log", err)
	}
	return f, nil
}
