package reliability

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	churnInFlight = 8
	churnWarmup   = 16
	// churnTolerance is the bound: after the churn runletd's
	// figures are within 10 % of their value before.
	churnTolerance = 0.10
)

// churnCycles is RUNLET_CHURN_CYCLES, 100 by default (make soak: 1000).
func churnCycles(t *testing.T) int {
	s := os.Getenv("RUNLET_CHURN_CYCLES")
	if s == "" {
		return 100
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("RUNLET_CHURN_CYCLES=%q is not a positive number", s)
	}
	return n
}

// figures are what a leak in runletd grows; goroutines come from the
// verbose CRI Status (the fewest of a few readings: a call in flight
// counts its own).
type figures struct {
	fds, threads int
	rssKiB       int
	goroutines   int
}

func (x figures) String() string {
	return fmt.Sprintf("fds %d, threads %d, goroutines %d, RSS %d KiB", x.fds, x.threads, x.goroutines, x.rssKiB)
}

func daemonFigures(t *testing.T, pid int) figures {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("runletd's fds: %v", err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("runletd's status: %v", err)
	}
	x := figures{fds: len(fds)}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		switch k {
		case "Threads":
			x.threads, _ = strconv.Atoi(v)
		case "VmRSS":
			x.rssKiB, _ = strconv.Atoi(v)
		}
	}
	return x
}

// grewFrom lists the figures that grew more than the tolerance. Threads
// may also grow by 2: the Go runtime keeps an extra thread it made for a
// blocking call under load, and 10 % of a dozen is one thread; a leak of
// one per cycle is still a hundred.
func (x figures) grewFrom(before figures) []string {
	var grew []string
	check := func(name string, b, a int) {
		limit := float64(b) * (1 + churnTolerance)
		if name == "threads" {
			limit = max(limit, float64(b+2))
		}
		if float64(a) > limit {
			grew = append(grew, fmt.Sprintf("%s %d -> %d (+%.0f%%)", name, b, a, 100*(float64(a)/float64(b)-1)))
		}
	}
	check("fds", before.fds, x.fds)
	check("threads", before.threads, x.threads)
	check("RSS KiB", before.rssKiB, x.rssKiB)
	check("goroutines", before.goroutines, x.goroutines)
	return grew
}

// TestPodChurnLeavesNoDescriptorsThreadsMemoryOrHostState runs pod
// lifecycles (pod on the CNI network with a host port, container, ExecSync,
// stop, remove), 8 in flight, alternating runc and crun: afterwards
// runletd's open fds, threads, goroutines and RSS are within 10 % of their value
// after a warm-up, and nothing of the pods is left.
func TestPodChurnLeavesNoDescriptorsThreadsMemoryOrHostState(t *testing.T) {
	cycles := churnCycles(t)
	f := start(t, withNetwork)
	var failures atomic.Int32
	churn := func(first, n int) {
		t.Helper()
		began := time.Now()
		parallel(t, churnInFlight, n, func(t *testing.T, i int) {
			if failures.Load() >= 5 {
				return // enough said; do not bury the first failures
			}
			if err := f.cycle(t, first+i, []string{"runc", "crun"}[i%2]); err != nil {
				failures.Add(1)
				t.Errorf("cycle %d: %v", first+i, err)
			}
		})
		if failures.Load() > 0 {
			t.FailNow()
		}
		t.Logf("%d cycles, %d in flight, in %v", n, churnInFlight, time.Since(began).Round(time.Millisecond))
	}
	churn(0, churnWarmup)
	before := daemonFigures(t, f.Proc.Pid())
	before.goroutines = f.goroutines(t)
	churn(churnWarmup, cycles)
	after := daemonFigures(t, f.Proc.Pid())
	after.goroutines = f.goroutines(t)
	t.Logf("runletd after %d warm-up cycles: %v", churnWarmup, before)
	t.Logf("runletd after %d more cycles:    %v", cycles, after)
	if grew := after.grewFrom(before); len(grew) != 0 {
		t.Errorf("runletd grew by more than %.0f%% over %d pod cycles: %s", 100*churnTolerance, cycles, strings.Join(grew, ", "))
	}
	if p, c := f.pods(t), f.containers(t); len(p)+len(c) != 0 {
		t.Errorf("after every cycle removed its pod: %d pods and %d containers listed", len(p), len(c))
	}
	f.removeAll(t)
	f.assertNothingLeft(t)
}

// cycle is one pod's life: run, create, start, exec, stop, remove.
func (f *fixture) cycle(t *testing.T, i int, handler string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := f.podConfig(t, fmt.Sprintf("churn-%d", i), 0)
	pod, err := f.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: handler})
	if err != nil {
		return fmt.Errorf("RunPodSandbox on %s: %w", handler, err)
	}
	ctr, err := f.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod.PodSandboxId,
		Config: ctrConfig("app", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"), SandboxConfig: cfg})
	if err != nil {
		return fmt.Errorf("CreateContainer on %s: %w", handler, err)
	}
	if _, err := f.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: ctr.ContainerId}); err != nil {
		return fmt.Errorf("StartContainer on %s: %w", handler, err)
	}
	want := fmt.Sprintf("cycle-%d", i)
	out, err := f.Runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: ctr.ContainerId, Cmd: []string{"echo", want}, Timeout: 30})
	if err != nil {
		return fmt.Errorf("ExecSync on %s: %w", handler, err)
	}
	if strings.TrimSpace(string(out.Stdout)) != want || out.ExitCode != 0 {
		return fmt.Errorf("ExecSync on %s: stdout %q exit %d, want %q exit 0", handler, out.Stdout, out.ExitCode, want)
	}
	if _, err := f.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: ctr.ContainerId, Timeout: 10}); err != nil {
		return fmt.Errorf("StopContainer on %s: %w", handler, err)
	}
	if _, err := f.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: ctr.ContainerId}); err != nil {
		return fmt.Errorf("RemoveContainer on %s: %w", handler, err)
	}
	if _, err := f.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod.PodSandboxId}); err != nil {
		return fmt.Errorf("StopPodSandbox on %s: %w", handler, err)
	}
	if _, err := f.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod.PodSandboxId}); err != nil {
		return fmt.Errorf("RemovePodSandbox on %s: %w", handler, err)
	}
	return nil
}

// goroutines is runletd's goroutine count from the verbose CRI Status, the
// fewest of five readings a tenth of a second apart.
func (f *fixture) goroutines(t *testing.T) int {
	t.Helper()
	fewest := 0
	for i := range 5 {
		resp, err := f.Runtime.Status(context.Background(), &runtimeapi.StatusRequest{Verbose: true})
		if err != nil {
			t.Fatalf("runletd's status: %v", err)
		}
		n, err := strconv.Atoi(resp.GetInfo()["goroutines"])
		if err != nil {
			t.Fatalf("verbose status reports no goroutine count: %v", resp.GetInfo())
		}
		if i == 0 || n < fewest {
			fewest = n
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fewest
}
