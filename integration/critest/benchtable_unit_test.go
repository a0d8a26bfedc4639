package critest

import (
	"strings"
	"testing"
)

func results(parallel int, ops []string, ns ...[]int64) lifecycleResults {
	r := lifecycleResults{OperationsNames: ops, NumParallel: parallel}
	for _, d := range ns {
		r.Datapoints = append(r.Datapoints, struct {
			OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
		}{d})
	}
	return r
}

func TestSideBySidePutsEachRuntimeInItsOwnColumnPerHandlerAndOperation(t *testing.T) {
	ops := []string{"CreatePod", "StopPod"}
	runs := []benchRun{
		{Runtime: "runletd", Handler: "runc (default)", Sets: map[string]lifecycleResults{
			"pod_benchmark_data": results(2, ops, []int64{1e6, 2e6}, []int64{3e6, 4e6})}},
		{Runtime: "containerd", Handler: "runc (default)", Sets: map[string]lifecycleResults{
			"pod_benchmark_data": results(2, ops, []int64{10e6, 20e6})}},
		{Runtime: "runletd", Handler: "crun", Sets: map[string]lifecycleResults{
			"pod_benchmark_data": results(2, ops, []int64{5e6, 6e6})}},
		{Runtime: "containerd", Handler: "crun", Sets: map[string]lifecycleResults{}}, // its run failed
	}
	out := sideBySide(runs)
	lines := strings.Split(out, "\n")
	want := []string{
		"=== critest -benchmark lifecycles, handler runc (default)",
		"| runletd",
		"pod_benchmark_data (2 in parallel)",
		"CreatePod              | n=2   median 3ms       mean 2ms       p90 3ms       max 3ms       | n=1   median 10ms      mean 10ms      p90 10ms      max 10ms",
		"StopPod                | n=2   median 4ms       mean 3ms       p90 4ms       max 4ms       | n=1   median 20ms",
		"=== critest -benchmark lifecycles, handler crun",
		"CreatePod              | n=1   median 5ms       mean 5ms       p90 5ms       max 5ms       | -",
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, w)
		}
		if !found {
			t.Errorf("no line has %q in\n%s", w, out)
		}
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
}
