package conformance

import (
	"time"

	v1stats "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2stats "github.com/containerd/cgroups/v3/cgroup2/stats"

	task "github.com/runlet/runlet/proto/task/v2"
)

// taskStats: Stats returns the container's cgroup metrics as an Any of
// io.containerd.cgroups.v1.Metrics (v1 or hybrid host) or .v2.Metrics (v2
// host), with the memory and pids the running container uses.
func taskStats(t T, x *tx) {
	s, b, _, _ := x.run("sh", "-c", "sleep 3600 & exec sleep 3601")
	resp, err := s.Client.Stats(x.within(time.Minute), &task.StatsRequest{Id: b.ID})
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	a := resp.GetStats()
	switch a.GetTypeUrl() {
	case "io.containerd.cgroups.v1.Metrics":
		var m v1stats.Metrics
		if err := a.UnmarshalTo(&m); err != nil {
			t.Fatalf("decode v1 metrics: %v", err)
		}
		if m.GetMemory().GetUsage().GetUsage() == 0 {
			t.Errorf("v1 memory usage is 0: %v", m.GetMemory())
		}
		if m.GetPids().GetCurrent() == 0 {
			t.Errorf("v1 pids.current is 0: %v", m.GetPids())
		}
	case "io.containerd.cgroups.v2.Metrics":
		var m v2stats.Metrics
		if err := a.UnmarshalTo(&m); err != nil {
			t.Fatalf("decode v2 metrics: %v", err)
		}
		if m.GetMemory().GetUsage() == 0 {
			t.Errorf("v2 memory usage is 0: %v", m.GetMemory())
		}
		if m.GetPids().GetCurrent() == 0 {
			t.Errorf("v2 pids.current is 0: %v", m.GetPids())
		}
	default:
		t.Fatalf("Stats type URL %q, want io.containerd.cgroups.v1.Metrics or .v2.Metrics", a.GetTypeUrl())
	}
	x.stop(s, b.ID)
}
