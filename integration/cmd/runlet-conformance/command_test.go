package main

import (
	"context"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle/bundletest"
)

// buildCommand builds runlet-conformance as a runtime author's `go run`
// would, into a temp dir.
func buildCommand(t *testing.T) string {
	t.Helper()
	bundletest.RequireRoot(t)
	bin := filepath.Join(t.TempDir(), "runlet-conformance")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runCommand runs the built command from a scratch directory and returns
// its output, exit code and JUnit report.
func runCommand(t *testing.T, bin string, args ...string) (string, int, junitSuites) {
	t.Helper()
	scratch := t.TempDir()
	report := filepath.Join(scratch, "report.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "-junit", report)...)
	cmd.Dir = scratch
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v\n%s", bin, err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no JUnit report: %v\n%s", err, out)
	}
	var suites junitSuites
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("JUnit report is not valid XML: %v\n%s", err, data)
	}
	return string(out), code, suites
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func TestCommandPassesRunletsRuncShimOnASelectionAndReportsJUnit(t *testing.T) {
	bin := buildCommand(t)
	shim := bundletest.ShimBinary(t, "runlet-shim-runc-v2")
	out, code, suites := runCommand(t, bin, "-shim", shim,
		"-run", "^(task|edge|subcommand)$/^(LifecycleStateCreateStartWaitDeleteWithBindRootfs|StartTwiceFails|InfoPrintsRuntimeInfo)$",
		"-lacks", "info=declared missing by the test")
	if code != 0 || lastLine(out) != "2 passed, 0 failed, 1 skipped" {
		t.Fatalf("exit %d, last line %q, want 0 and \"2 passed, 0 failed, 1 skipped\":\n%s", code, lastLine(out), out)
	}
	if len(suites.Suites) != 1 || suites.Tests != 3 || suites.Skipped != 1 || suites.Failures != 0 {
		t.Fatalf("JUnit report %+v", suites)
	}
	got := map[string]junitCase{}
	for _, c := range suites.Suites[0].Cases {
		got[c.Classname+"/"+c.Name] = c
	}
	for _, name := range []string{"task/LifecycleStateCreateStartWaitDeleteWithBindRootfs", "edge/StartTwiceFails"} {
		if c, ok := got[name]; !ok || c.Failure != nil || c.Skipped != nil {
			t.Errorf("JUnit case %s: %+v, present %v; want a pass", name, c, ok)
		}
	}
	if c := got["subcommand/InfoPrintsRuntimeInfo"]; c.Skipped == nil || !strings.Contains(c.Skipped.Message, "declared missing by the test") {
		t.Errorf("JUnit case subcommand/InfoPrintsRuntimeInfo: %+v, want skipped with the -lacks reason", c)
	}
}

func TestCommandExitsNonZeroAndReportsTheFailureOfABrokenShim(t *testing.T) {
	bin := buildCommand(t)
	// /bin/true answers `start` with no address: every check must fail.
	out, code, suites := runCommand(t, bin, "-shim", "/bin/true", "-run", "^edge$/^StartTwiceFails$")
	if code != 1 || lastLine(out) != "0 passed, 1 failed, 0 skipped" {
		t.Fatalf("exit %d, last line %q, want 1 and \"0 passed, 1 failed, 0 skipped\":\n%s", code, lastLine(out), out)
	}
	if suites.Failures != 1 || len(suites.Suites) != 1 || len(suites.Suites[0].Cases) != 1 || suites.Suites[0].Cases[0].Failure == nil {
		t.Fatalf("JUnit report %+v, want one failed case", suites)
	}
}
