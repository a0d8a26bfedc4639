// Command runlet-shimrun runs one busybox container through any containerd
// shim v2 binary, the way a daemon drives it: bootstrap, Create, Start,
// Wait, Delete, Shutdown. It is the smallest end-to-end check of a shim.
//
//	runlet-shimrun [-shim bin/runlet-shim-runc-v2] [-v] -- sh -c 'echo hello'
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	shimPath := flag.String("shim", "runlet-shim-runc-v2", "shim binary (path or name on PATH)")
	verbose := flag.Bool("v", false, "print the shim's events and logs on stderr")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-shim PATH] [-v] -- COMMAND [ARG...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		args = []string{"sh", "-c", "echo hello from $(hostname) via runlet; uname -sr"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	status, err := run(ctx, *shimPath, args, *verbose)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runlet-shimrun: %v\n", err)
		os.Exit(125)
	}
	os.Exit(status)
}
