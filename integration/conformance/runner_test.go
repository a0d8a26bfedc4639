package conformance

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckTFatalEndsTheCheckThenCleanupsRunLastRegisteredFirst(t *testing.T) {
	c := &checkT{name: "g/c"}
	var order []string
	c.run(func(t T) {
		t.Cleanup(func() { order = append(order, "first") })
		t.Cleanup(func() {
			order = append(order, "second")
			t.Cleanup(func() { order = append(order, "registered by a cleanup") })
		})
		t.Fatalf("boom %d", 1)
		order = append(order, "after Fatal")
	})
	if want := []string{"second", "registered by a cleanup", "first"}; !slices.Equal(order, want) {
		t.Errorf("order = %q, want %q", order, want)
	}
	if st, reason := c.status(); st != Failed || reason != "boom 1" {
		t.Errorf("status = %s %q, want failed \"boom 1\"", st, reason)
	}
}

func TestCheckTFailureWinsOverALaterSkip(t *testing.T) {
	c := &checkT{name: "g/c"}
	c.run(func(t T) {
		t.Errorf("wrong")
		t.Skip("not supported")
	})
	if st, reason := c.status(); st != Failed || reason != "wrong" {
		t.Errorf("status = %s %q, want failed \"wrong\"", st, reason)
	}
}

func TestCheckTSkipKeepsItsReasonAndLogsAreKept(t *testing.T) {
	c := &checkT{name: "g/c"}
	var streamed []string
	c.onLog = func(line string) { streamed = append(streamed, line) }
	c.run(func(t T) {
		t.Logf("probing %s", "x")
		t.Skipf("shim lacks %s", "x")
	})
	if st, reason := c.status(); st != Skipped || reason != "shim lacks x" {
		t.Errorf("status = %s %q, want skipped \"shim lacks x\"", st, reason)
	}
	if want := []string{"probing x", "shim lacks x"}; !slices.Equal(c.log, want) || !slices.Equal(streamed, want) {
		t.Errorf("log = %q, streamed %q, want %q", c.log, streamed, want)
	}
}

func TestCheckTPanicFailsTheCheckAndCleanupsStillRun(t *testing.T) {
	c := &checkT{name: "g/c"}
	cleaned := false
	c.run(func(t T) {
		t.Cleanup(func() { cleaned = true })
		panic("bad index")
	})
	st, reason := c.status()
	if st != Failed || !strings.HasPrefix(reason, "panic: bad index") || !cleaned {
		t.Errorf("status = %s %q, cleaned %v; want failed on the panic, cleaned", st, reason, cleaned)
	}
}

func TestCheckTPassesWithoutErrors(t *testing.T) {
	c := &checkT{name: "g/c"}
	c.run(func(t T) { t.Log("fine") })
	if st, reason := c.status(); st != Passed || reason != "" {
		t.Errorf("status = %s %q, want passed", st, reason)
	}
}

func TestMatcherSplitsAtSlashesAsGoTestDoes(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"task", "task/StartTwiceFails", true},
		{"task", "taskv3/StatsReturnsCgroupMetrics", true}, // unanchored, as go test
		{"^task$", "taskv3/StatsReturnsCgroupMetrics", false},
		{"Lifecycle", "task/LifecycleStateCreateStartWaitDeleteWithBindRootfs", false}, // level 1 is the group
		{"/Lifecycle", "task/LifecycleStateCreateStartWaitDeleteWithBindRootfs", true},
		{"task/Lifecycle|Stats", "task/StatsReturnsCgroupMetrics", true},
		{"edge/Stats", "task/StatsReturnsCgroupMetrics", false},
		{"a/b/c", "a/b", false},
	} {
		m, err := newMatcher(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.matches(tc.name); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	if _, err := newMatcher("task/("); err == nil {
		t.Error("newMatcher accepted an invalid regexp")
	}
}

func TestChecksNamesEveryCheckOnceAsGroupSlashCheck(t *testing.T) {
	names := Checks()
	seen := map[string]bool{}
	for _, n := range names {
		if strings.Count(n, "/") != 1 || seen[n] {
			t.Errorf("check name %q is not group/Check or repeats", n)
		}
		seen[n] = true
	}
	for _, want := range []string{"task/LifecycleStateCreateStartWaitDeleteWithBindRootfs", "taskv3/StatsReturnsCgroupMetrics", "subcommand/CheckpointReachesCRIU"} {
		if !seen[want] {
			t.Errorf("Checks() lacks %s", want)
		}
	}
}

func TestParseCapabilitiesRefusesUnknownNames(t *testing.T) {
	got, err := ParseCapabilities(" task-v3, info ,")
	if err != nil || !slices.Equal(got, []Capability{TaskV3, Info}) {
		t.Errorf("ParseCapabilities = %v, %v", got, err)
	}
	if _, err := ParseCapabilities("task-v3,crun"); err == nil || !strings.Contains(err.Error(), `"crun"`) {
		t.Errorf("ParseCapabilities accepted an unknown name: %v", err)
	}
}

func TestRunSuiteRunsNothingOnAHostOrConfigThatCannotRunIt(t *testing.T) {
	started := 0
	opts := Options{Started: func(string) { started++ }}
	results, err := RunSuite(Config{Shim: "/bin/true", Runtime: "no-such-runtime-for-conformance"}, opts)
	if !errors.Is(err, ErrUnavailable) || len(results) != 0 || started != 0 {
		t.Errorf("missing runtime: results %v, started %d, err %v; want ErrUnavailable and nothing run", results, started, err)
	}
	opts.Run = "task/("
	if _, err := RunSuite(Config{Shim: "/bin/true"}, opts); err == nil || !strings.Contains(err.Error(), "task/(") || started != 0 {
		t.Errorf("bad -run pattern: err %v, started %d; want an error naming the pattern", err, started)
	}
}
