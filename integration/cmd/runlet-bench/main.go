// Command runlet-bench measures runlet's shims side by side with
// containerd's containerd-shim-runc-v2, driven the way a daemon drives
// them (package daemon/shim). It is a benchmark, not a test: it prints
// medians and memory figures and asserts nothing.
//
//	runlet-bench shims [-n 20] [-shim NAME=PATH[@RUNTIME]]...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

type shimList []benchShim

func (l *shimList) String() string { return fmt.Sprint(*l) }

// Set parses NAME=PATH or NAME=PATH@RUNTIME; RUNTIME becomes the
// BinaryName of the runtime options the shim is started with.
func (l *shimList) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=PATH[@RUNTIME], got %q", v)
	}
	path, runtime, _ := strings.Cut(path, "@")
	*l = append(*l, benchShim{name: name, path: path, runtime: runtime})
	return nil
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "shims" {
		fmt.Fprintln(os.Stderr, "usage: runlet-bench shims [-n RUNS] [-shim NAME=PATH[@RUNTIME]]...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("shims", flag.ExitOnError)
	runs := fs.Int("n", 20, "runs per measurement (medians are reported)")
	var shims shimList
	fs.Var(&shims, "shim", "a shim to measure as NAME=PATH[@RUNTIME] (repeatable); RUNTIME is its runtime binary, e.g. crun")
	fs.Parse(os.Args[2:])
	if len(shims) == 0 {
		fmt.Fprintln(os.Stderr, "runlet-bench: name at least one -shim NAME=PATH[@RUNTIME]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := benchShims(ctx, shims, *runs, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "runlet-bench: %v\n", err)
		os.Exit(1)
	}
}
