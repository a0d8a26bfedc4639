package shims

import (
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// setupLog sends the server's logs (and a Go crash report) to the `log`
// FIFO in the bundle, whose read end the daemon holds, by making it fd 2.
// The FIFO is non-blocking: when the daemon is away and the FIFO is full a
// log line is dropped; the shim never stalls on its own logging.
func setupLog(debug bool) {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	if fd, err := unix.Open("log", unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
		_ = unix.Dup3(fd, 2, 0)
		unix.Close(fd)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}
