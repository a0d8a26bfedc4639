package reliability

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// copies is how many identical calls are made at once (kubelet's retries
// of a call that timed out while the first is still running).
const copies = 8

// atOnce runs fn n times concurrently, released together, and returns
// each call's error.
func atOnce(n int, fn func(ctx context.Context, i int) error) []error {
	errs := make([]error, n)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			<-release
			errs[i] = fn(ctx, i)
		}()
	}
	close(release)
	wg.Wait()
	return errs
}

// allSucceeded reports an error unless every concurrent copy of call
// succeeded.
func allSucceeded(t *testing.T, call string, errs []error) {
	t.Helper()
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Sprintf("#%d: %v (code %s)", i, err, codeOf(err)))
		}
	}
	if len(failed) != 0 {
		t.Errorf("%d identical %s calls at once: %d failed, want every one to succeed (one effect, the others its answer):\n  %s",
			len(errs), call, len(failed), strings.Join(failed, "\n  "))
	}
}

// properCodes reports a racing call that failed with Unknown (a failure
// must say what it is: NotFound, FailedPrecondition...) or with Internal
// from a shim that panicked or went away. Other failures are logged: the
// race may legitimately lose (an exec into a container that stopped).
func properCodes(t *testing.T, call string, errs []error) {
	t.Helper()
	for i, err := range errs {
		c := codeOf(err)
		msg := strings.ToLower(fmt.Sprint(err))
		switch {
		case c == codes.Unknown:
			t.Errorf("%s #%d: %v (code Unknown), want success or a gRPC code that says why", call, i, err)
		case c == codes.Internal && (strings.Contains(msg, "panic") || strings.Contains(msg, "ttrpc: closed") || strings.Contains(msg, "connection")):
			t.Errorf("%s #%d: %v (code Internal): the shim panicked or went away", call, i, err)
		case err != nil:
			t.Logf("%s #%d: %v (code %s)", call, i, err, c)
		}
	}
}

// TestIdenticalAndRacingCallsHaveOneEffectAndKillNoShim makes 8
// identical calls at once for each state-changing pod and container call,
// on every handler: all succeed with one effect (one pod, one container,
// one process; nothing left after the stops and removes). ExecSync racing
// StopContainer succeeds or fails with FailedPrecondition,
// UpdateContainerResources racing StartContainer succeeds or fails with a
// proper gRPC code, and the pod's shim survives:
// the pod stays Ready and another container in it keeps running.
func TestIdenticalAndRacingCallsHaveOneEffectAndKillNoShim(t *testing.T) {
	f := start(t)
	var ids []string
	for hi, h := range f.handlers {
		t.Run(h, func(t *testing.T) {
			podCfg := f.podConfig(t, "dup-"+h, 0)
			var podIDs [copies]string
			errs := atOnce(copies, func(ctx context.Context, i int) error {
				resp, err := f.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podCfg, RuntimeHandler: h})
				if err == nil {
					podIDs[i] = resp.PodSandboxId
				}
				return err
			})
			for _, id := range podIDs {
				if id != "" {
					ids = append(ids, id)
				}
			}
			allSucceeded(t, "RunPodSandbox (same name and attempt)", errs)
			pod := firstID(t, "RunPodSandbox", podIDs[:])
			for i, id := range podIDs {
				if id != "" && id != pod {
					t.Fatalf("identical RunPodSandbox calls returned different pods: %s and #%d %s", pod, i, id)
				}
			}
			f.assertOnePodNamed(t, podCfg.Metadata.Name)
			_, info := f.podInfo(t, pod)
			shim := parentPid(info.Pid)
			shimStart := startTime(shim)

			// CreateContainer x8 with one name: one container.
			marker := strconv.Itoa(200000 + hi) // the container's sleep argument, unique to this handler
			var ctrIDs [copies]string
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				resp, err := f.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod,
					Config: ctrConfig("dup", "sleep", marker), SandboxConfig: podCfg})
				if err == nil {
					ctrIDs[i] = resp.ContainerId
				}
				return err
			})
			allSucceeded(t, "CreateContainer (same name)", errs)
			dup := firstID(t, "CreateContainer", ctrIDs[:])
			for i, id := range ctrIDs {
				if id != "" && id != dup {
					t.Fatalf("identical CreateContainer calls returned different containers: %s and #%d %s", dup, i, id)
				}
			}
			f.assertOneContainerNamed(t, pod, "dup")

			// StartContainer x8: all succeed, one process.
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				_, err := f.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: dup})
				return err
			})
			allSucceeded(t, "StartContainer", errs)
			st, pid := f.ctrStatus(t, dup)
			if st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || !running(pid) {
				t.Fatalf("container after 8 StartContainer calls: %s, pid %d running %v", st.State, pid, running(pid))
			}
			// The started init execs its command a moment after Start returns
			// (until then its cmdline is the runtime's).
			var procs []int
			daemontest.WaitFor(t, 10*time.Second, "the container's command to run", func() bool {
				procs = f.processesRunning("sleep " + marker)
				return len(procs) > 0
			})
			if len(procs) != 1 {
				t.Fatalf("processes of the container after 8 StartContainer calls: %v, want exactly one", procs)
			}

			// A bystander in the same pod: it must outlive every race.
			by := f.createCtr(t, pod, podCfg, ctrConfig("bystander", "sleep", "100000"))
			byPid := f.startCtr(t, by)

			// UpdateContainerResources racing StartContainer.
			upd := f.createCtr(t, pod, podCfg, ctrConfig("update", "sleep", "100000"))
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				if i == 0 {
					_, err := f.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: upd})
					return err
				}
				_, err := f.Runtime.UpdateContainerResources(ctx, &runtimeapi.UpdateContainerResourcesRequest{ContainerId: upd,
					Linux: &runtimeapi.LinuxContainerResources{CpuShares: int64(512 + i), MemoryLimitInBytes: int64(64+i) << 20}})
				return err
			})
			if errs[0] != nil {
				t.Errorf("StartContainer racing UpdateContainerResources: %v (code %s), want success", errs[0], codeOf(errs[0]))
			}
			properCodes(t, "UpdateContainerResources racing StartContainer", errs[1:])
			if st, pid := f.ctrStatus(t, upd); st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || !running(pid) {
				t.Errorf("container started while updated: %s (reason %q), pid %d running %v", st.State, st.Reason, pid, running(pid))
			}

			// ExecSync racing StopContainer.
			ex := f.createCtr(t, pod, podCfg, ctrConfig("exec", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"))
			f.startCtr(t, ex)
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				if i == 0 {
					_, err := f.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: ex, Timeout: 10})
					return err
				}
				_, err := f.Runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: ex, Cmd: []string{"sh", "-c", "sleep 0.2; echo ok"}, Timeout: 30})
				return err
			})
			if errs[0] != nil {
				t.Errorf("StopContainer racing ExecSync: %v (code %s), want success", errs[0], codeOf(errs[0]))
			}
			properCodes(t, "ExecSync racing StopContainer", errs[1:])
			for i, err := range errs[1:] {
				// The exec lost the race with the container's end.
				if err != nil && codeOf(err) != codes.FailedPrecondition {
					t.Errorf("ExecSync racing StopContainer #%d: %v (code %s), want success or FailedPrecondition", i, err, codeOf(err))
				}
			}
			if st, _ := f.ctrStatus(t, ex); st.State != runtimeapi.ContainerState_CONTAINER_EXITED {
				t.Errorf("container stopped while exec'd into: %s, want CONTAINER_EXITED", st.State)
			}

			// No race took the pod's shim down.
			if ps, _ := f.podInfo(t, pod); ps.State != runtimeapi.PodSandboxState_SANDBOX_READY {
				t.Errorf("pod after the races: %s, want SANDBOX_READY", ps.State)
			}
			if startTime(shim) != shimStart || !running(shim) {
				t.Errorf("the pod's shim (pid %d) died in the races", shim)
			}
			if st, pid := f.ctrStatus(t, by); st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || pid != byPid || !running(pid) {
				t.Errorf("bystander container after the races: %s (reason %q), pid %d (was %d) running %v", st.State, st.Reason, pid, byPid, running(pid))
			}
			if t.Failed() {
				t.FailNow()
			}

			// StopContainer x8, RemoveContainer x8.
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				_, err := f.Runtime.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: dup, Timeout: 10})
				return err
			})
			allSucceeded(t, "StopContainer", errs)
			if st, _ := f.ctrStatus(t, dup); st.State != runtimeapi.ContainerState_CONTAINER_EXITED || running(pid) {
				t.Fatalf("container after 8 StopContainer calls: %s, pid %d running %v", st.State, pid, running(pid))
			}
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				_, err := f.Runtime.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: dup})
				return err
			})
			allSucceeded(t, "RemoveContainer", errs)
			if _, err := f.Runtime.ContainerStatus(ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: dup}); codeOf(err) != codes.NotFound {
				t.Fatalf("ContainerStatus after 8 RemoveContainer calls: %v, want NotFound", err)
			}

			// StopPodSandbox x8, RemovePodSandbox x8.
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				_, err := f.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod})
				return err
			})
			allSucceeded(t, "StopPodSandbox", errs)
			if ps, _ := f.podInfo(t, pod); ps.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY || running(info.Pid) {
				t.Fatalf("pod after 8 StopPodSandbox calls: %s, pause pid %d running %v", ps.State, info.Pid, running(info.Pid))
			}
			for _, c := range []string{by, upd, ex} {
				if st, pid := f.ctrStatus(t, c); st.State != runtimeapi.ContainerState_CONTAINER_EXITED || running(pid) {
					t.Fatalf("container %s after 8 StopPodSandbox calls: %s, pid %d running %v", st.Metadata.Name, st.State, pid, running(pid))
				}
			}
			errs = atOnce(copies, func(ctx context.Context, i int) error {
				_, err := f.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod})
				return err
			})
			allSucceeded(t, "RemovePodSandbox", errs)
			if _, err := f.Runtime.PodSandboxStatus(ctx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: pod}); codeOf(err) != codes.NotFound {
				t.Fatalf("PodSandboxStatus after 8 RemovePodSandbox calls: %v, want NotFound", err)
			}
			for _, c := range f.containers(t) {
				if c.PodSandboxId == pod {
					t.Fatalf("container %s (%s) of the removed pod still listed", c.Id, c.Metadata.Name)
				}
			}
		})
	}
	f.removeAll(t)
	f.assertNothingLeft(t, ids...)
}

// firstID is the id the first successful call returned; none is fatal.
func firstID(t *testing.T, call string, ids []string) string {
	t.Helper()
	for _, id := range ids {
		if id != "" {
			return id
		}
	}
	t.Fatalf("no %s call succeeded", call)
	return ""
}

// processesRunning lists the live processes in the pods' cgroup parent
// whose command line is cmd.
func (f *fixture) processesRunning(cmd string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !running(pid) || cmdline(pid) != cmd {
			continue
		}
		if cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); strings.Contains(string(cg), f.cgroup+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}
