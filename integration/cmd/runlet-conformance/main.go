// Command runlet-conformance runs runlet's shim conformance suite against
// any containerd shim v2 binary, without go test, make or a checkout of
// runlet:
//
//	go run github.com/runlet/runlet/integration/cmd/runlet-conformance@VERSION -shim /path/to/shim
//
// It prints each check's outcome, then a summary (skips and failures with
// their reasons) ending in "N passed, N failed, N skipped", writes a JUnit
// XML report with -junit FILE, and exits 1 when a check failed, 2 when the
// suite could not run. -list prints the checks, capabilities and
// deviations. It needs root, the OCI runtime the shim drives (runc by
// default) and a static busybox (Debian: busybox-static).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/runlet/runlet/integration/conformance"
)

const (
	exitFailed    = 1
	exitCannotRun = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runlet-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := defineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitCannotRun
	}
	if f.list {
		printList(stdout)
		return 0
	}
	cfg, err := f.config(fs)
	if err != nil {
		fmt.Fprintf(stderr, "runlet-conformance: %v\n", err)
		return exitCannotRun
	}
	p := newProgress(stdout, f.verbose)
	opts := conformance.Options{
		Run: f.run, Skip: f.skip,
		Began:   func(about string) { fmt.Fprintln(stdout, about) },
		Started: p.started, Logged: p.logged, Finished: p.finished,
		Stop: stopOnSignal(stderr),
	}
	results, err := conformance.RunSuite(cfg, opts)
	if err != nil {
		fmt.Fprintf(stderr, "runlet-conformance: %v\n", err)
		if errors.Is(err, conformance.ErrUnavailable) {
			fmt.Fprintln(stderr, "runlet-conformance: see -h for what the suite needs")
		}
		return exitCannotRun
	}
	printSummary(stdout, results)
	if f.junit != "" {
		if err := writeJUnit(f.junit, cfg, results); err != nil {
			fmt.Fprintf(stderr, "runlet-conformance: %v\n", err)
			return exitCannotRun
		}
	}
	if len(results) == 0 {
		fmt.Fprintln(stderr, "runlet-conformance: no check matched -run/-skip (see -list)")
		return exitCannotRun
	}
	if count(results, conformance.Failed) > 0 {
		return exitFailed
	}
	return 0
}

// stopOnSignal asks the suite to stop after the running check (which
// still cleans up) at the first SIGINT or SIGTERM; a second one exits at
// once.
func stopOnSignal(stderr io.Writer) <-chan struct{} {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	stop := make(chan struct{})
	go func() {
		<-sigs
		fmt.Fprintln(stderr, "runlet-conformance: stopping after the running check and its cleanup (signal again to exit now)")
		close(stop)
		<-sigs
		os.Exit(exitCannotRun)
	}()
	return stop
}
