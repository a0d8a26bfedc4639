package shims

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// flags are containerd's shim flags; every generation of containerd passes
// a subset of them, so all are accepted.
type flags struct {
	namespace     string
	id            string
	address       string // the daemon's GRPC address, part of the socket hash
	publishBinary string
	bundle        string
	socket        string // the serving socket's path, for the forked server
	debugSocket   string
	debug         bool
	version       bool
	info          bool
	action        string // "start", "delete", or "" to serve
}

func parseFlags(name string, args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.namespace, "namespace", "", "namespace that owns the shim")
	fs.StringVar(&f.id, "id", "", "id of the task")
	fs.StringVar(&f.address, "address", "", "GRPC address of the daemon")
	fs.StringVar(&f.publishBinary, "publish-binary", "", "binary that publishes events (unused: events go over ttrpc)")
	fs.StringVar(&f.bundle, "bundle", "", "bundle directory (delete)")
	fs.StringVar(&f.socket, "socket", "", "socket path to serve on")
	fs.StringVar(&f.debugSocket, "debug-socket", "", "unused, accepted for containerd compatibility")
	fs.BoolVar(&f.debug, "debug", false, "log at debug level")
	fs.BoolVar(&f.version, "v", false, "print the version and exit")
	fs.BoolVar(&f.info, "info", false, "read runtime options on stdin, print RuntimeInfo and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.action = fs.Arg(0)
	if f.bundle == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
		f.bundle = wd
	}
	if f.namespace == "" {
		f.namespace = os.Getenv("NAMESPACE")
	}
	return f, nil
}

func (f *flags) needID() error {
	if f.id == "" {
		return fmt.Errorf("the %q action needs -id", f.action)
	}
	if f.namespace == "" {
		return fmt.Errorf("the %q action needs -namespace", f.action)
	}
	return nil
}
