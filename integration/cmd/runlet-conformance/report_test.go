package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/conformance"
)

var someResults = []conformance.Result{
	{Name: "task/StartTwiceFails", Status: conformance.Passed, Duration: time.Second},
	{Name: "subcommand/InfoPrintsRuntimeInfo", Status: conformance.Skipped, Reason: "shim lacks info: no -info yet"},
	{Name: "edge/StartTwiceFails", Status: conformance.Failed, Reason: "Start: code Unknown\x00, want FailedPrecondition",
		Log: []string{"shim log [c-1]: <serving>", "Start: code Unknown\x00, want FailedPrecondition"}},
}

func TestSummaryEndsWithTheCountsAndGivesEachReason(t *testing.T) {
	var out bytes.Buffer
	printSummary(&out, someResults)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != "1 passed, 1 failed, 1 skipped" {
		t.Errorf("last line %q", last)
	}
	for _, want := range []string{"subcommand/InfoPrintsRuntimeInfo: shim lacks info: no -info yet", "edge/StartTwiceFails: Start: code Unknown"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestJUnitReportParsesBackWithEveryCaseAndOutcome(t *testing.T) {
	data, err := xml.Marshal(junitReport(conformance.Config{Shim: "/x/shim-v2"}, someResults, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(data, &got); err != nil {
		t.Fatalf("report is not valid XML (a NUL in a log must be escaped): %v\n%s", err, data)
	}
	if got.Tests != 3 || got.Failures != 1 || got.Skipped != 1 || len(got.Suites) != 1 || len(got.Suites[0].Cases) != 3 {
		t.Fatalf("report %+v", got)
	}
	cases := got.Suites[0].Cases
	if c := cases[0]; c.Classname != "task" || c.Name != "StartTwiceFails" || c.Failure != nil || c.Skipped != nil || c.Time != "1.000" {
		t.Errorf("passed case %+v", c)
	}
	if c := cases[1]; c.Skipped == nil || c.Skipped.Message != "shim lacks info: no -info yet" {
		t.Errorf("skipped case %+v", c)
	}
	if c := cases[2]; c.Failure == nil || !strings.HasPrefix(c.Failure.Message, "Start: code Unknown") || !strings.Contains(c.SystemOut, "shim log [c-1]: <serving>") {
		t.Errorf("failed case %+v", c)
	}
}

func parseConfig(t *testing.T, args ...string) (conformance.Config, error) {
	t.Helper()
	for _, v := range []string{"RUNLET_CONFORMANCE_RUNTIME", "RUNLET_CONFORMANCE_DEFAULT_ROOT", "RUNLET_CONFORMANCE_SUPPORTS"} {
		t.Setenv(v, "") // the flags' defaults
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := defineFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.config(fs)
}

func TestFlagsAddToTheKnownProfileOfRunletsShim(t *testing.T) {
	cfg, err := parseConfig(t, "-shim", "/opt/runlet-shim-crun", "-lacks", "info=not in this build", "-deviation", "duplicate-create-code=ours")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime != "crun" || cfg.Lacks[conformance.Info] != "not in this build" || cfg.Deviations[conformance.DuplicateCreateCode] != "ours" {
		t.Errorf("config %+v", cfg)
	}
	for _, c := range cfg.Supports {
		if c == conformance.Info {
			t.Errorf("info still claimed after -lacks info: %v", cfg.Supports)
		}
	}
}

func TestFlagsDescribeAnUnknownShimFromScratch(t *testing.T) {
	cfg, err := parseConfig(t, "-shim", "/opt/containerd-shim-mine-v2", "-runtime", "crun", "-default-root", "/run/mine", "-supports", "task-v3,info")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runtime != "crun" || cfg.DefaultRoot != "/run/mine" || len(cfg.Supports) != 2 || len(cfg.Lacks) != 0 {
		t.Errorf("config %+v", cfg)
	}
}

func TestFlagsRefuseUnknownNamesAndMissingReasons(t *testing.T) {
	for _, args := range [][]string{
		{"-shim", "/s", "-supports", "crun"},
		{"-shim", "/s", "-lacks", "no-such-capability"},
		{"-shim", "/s", "-deviation", "duplicate-create-code"},
		{"-shim", "/s", "-supports", "info", "-lacks", "info"},
		{"-shim", "/s", "-profile", "containerd"},
		{},
	} {
		if cfg, err := parseConfig(t, args...); err == nil {
			t.Errorf("%q accepted: %+v", args, cfg)
		}
	}
}
