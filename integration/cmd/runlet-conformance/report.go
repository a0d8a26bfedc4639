package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/runlet/runlet/integration/conformance"
)

// progress prints each check as it runs, in go test -v's words.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
}

func newProgress(w io.Writer, verbose bool) *progress { return &progress{w: w, verbose: verbose} }

func (p *progress) started(name string) {
	if p.verbose {
		p.printf("=== RUN   %s\n", name)
	}
}

func (p *progress) logged(name, line string) {
	if p.verbose {
		p.printf("    %s: %s\n", name, indent(line))
	}
}

func (p *progress) finished(r conformance.Result) {
	secs := r.Duration.Round(10 * time.Millisecond).Seconds()
	switch r.Status {
	case conformance.Passed:
		p.printf("--- PASS: %s (%.2fs)\n", r.Name, secs)
	case conformance.Skipped:
		p.printf("--- SKIP: %s (%.2fs): %s\n", r.Name, secs, indent(r.Reason))
	case conformance.Failed:
		p.printf("--- FAIL: %s (%.2fs)\n", r.Name, secs)
		if !p.verbose { // the log was not printed as it came
			for _, line := range r.Log {
				p.printf("    %s\n", indent(line))
			}
		}
	}
}

func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// printSummary lists the skipped and failed checks with their reasons and
// ends with the line "N passed, N failed, N skipped".
func printSummary(w io.Writer, results []conformance.Result) {
	fmt.Fprintln(w)
	for _, st := range []conformance.Status{conformance.Skipped, conformance.Failed} {
		if n := count(results, st); n > 0 {
			fmt.Fprintf(w, "%s (%d):\n", st, n)
			for _, r := range results {
				if r.Status == st {
					fmt.Fprintf(w, "  %s: %s\n", r.Name, indent(r.Reason))
				}
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n",
		count(results, conformance.Passed), count(results, conformance.Failed), count(results, conformance.Skipped))
}

func count(results []conformance.Result, st conformance.Status) int {
	n := 0
	for _, r := range results {
		if r.Status == st {
			n++
		}
	}
	return n
}

// printList prints every check, capability and deviation.
func printList(w io.Writer) {
	fmt.Fprintln(w, "checks (-run/-skip match group/Check):")
	for _, name := range conformance.Checks() {
		fmt.Fprintf(w, "  %s\n", name)
	}
	fmt.Fprintln(w, "\ncapabilities (-supports a,b; -lacks NAME=REASON; neither: probed where the suite can):")
	for _, k := range conformance.Capabilities() {
		fmt.Fprintf(w, "  %-24s %s\n", k.Name, k.Doc)
	}
	fmt.Fprintln(w, "\ndeviations (-deviation NAME=REASON):")
	for _, k := range conformance.Deviations() {
		fmt.Fprintf(w, "  %-26s %s\n", k.Name, k.Doc)
	}
}

// indent keeps a multi-line message under its check's line.
func indent(msg string) string { return strings.ReplaceAll(msg, "\n", "\n        ") }
