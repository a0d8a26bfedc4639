// Package daemontest runs a real runletd for end-to-end tests: built (or
// taken from RUNLET_BIN), on a configuration whose root, state and socket
// live in a short temporary directory, with runlet's shims as its
// runtimes; the real crictl and a Go CRI client drive it. Everything it
// starts is stopped by pid and everything it mounts is unmounted at
// cleanup.
package daemontest
