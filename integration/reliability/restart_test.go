package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// podsPerHandler is how many pods each handler runs through a restart.
const podsPerHandler = 10

// counterScript writes a numbered line every 100 ms.
const counterScript = "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done"

// livePod is what a pod was before runletd stopped.
type livePod struct {
	handler, pod, ctr string
	pausePid, ctrPid  int
	pauseStart        string // /proc/PID/stat start time: the same process, not a reused pid
	ctrStart          string
	log               string // the container's CRI log file
}

// TestStoppingRunletdNeverTouchesPods stops runletd with SIGTERM (what
// systemctl restart sends), SIGINT and kill -9, in turn, with 10 pods per
// handler, each with a container writing a line every 100 ms: the pods'
// processes outlive each stop, and after each next start every pod is
// Ready with the same pause process and every container Running with the
// same process, whose log keeps growing. The pods are the same through
// the three stops; a stop that breaks one skips the stops after it.
func TestStoppingRunletdNeverTouchesPods(t *testing.T) {
	f := start(t)
	pods := f.runCounters(t, podsPerHandler)
	parent := t
	broken := ""
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sigName(sig), func(t *testing.T) {
			if broken != "" {
				t.Skipf("the pods were broken by %s", broken)
			}
			defer func() {
				if t.Failed() {
					broken = sigName(sig)
				}
			}()
			f.stopAndRestart(t, ownedBy{t, parent}, sig, pods)
		})
	}
	f.removeAll(t)
	var ids []string
	for _, p := range pods {
		ids = append(ids, p.pod)
	}
	f.assertNothingLeft(t, ids...)
}

// stopAndRestart stops runletd with sig, checks the pods' processes
// outlived it, starts runletd again (owned by the whole test: it serves
// the next subtest) and checks every pod and container is as it was, logs
// flowing.
func (f *fixture) stopAndRestart(t *testing.T, owned ownedBy, sig syscall.Signal, pods []*livePod) {
	t.Helper()
	if err := f.Proc.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Proc.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("runletd did not exit within 30s of %s", sigName(sig))
	}
	for _, p := range pods {
		if startTime(p.pausePid) != p.pauseStart || !running(p.pausePid) {
			t.Errorf("%s pod %s: its pause (pid %d) ended with runletd's %s", p.handler, p.pod, p.pausePid, sigName(sig))
		}
		if startTime(p.ctrPid) != p.ctrStart || !running(p.ctrPid) {
			t.Errorf("%s container %s: its process (pid %d) ended with runletd's %s", p.handler, p.ctr, p.ctrPid, sigName(sig))
		}
	}

	f.Restart(owned)
	for _, p := range pods {
		st, info := f.podInfo(t, p.pod)
		if st.State != runtimeapi.PodSandboxState_SANDBOX_READY || info.Pid != p.pausePid || startTime(info.Pid) != p.pauseStart {
			t.Errorf("%s pod %s after %s and a restart: %s, pause pid %d (start %s), want SANDBOX_READY, pid %d (start %s)",
				p.handler, p.pod, sigName(sig), st.State, info.Pid, startTime(info.Pid), p.pausePid, p.pauseStart)
		}
		cst, pid := f.ctrStatus(t, p.ctr)
		if cst.State != runtimeapi.ContainerState_CONTAINER_RUNNING || pid != p.ctrPid || startTime(pid) != p.ctrStart {
			t.Errorf("%s container %s after %s and a restart: %s (reason %q, exit %d), pid %d (start %s), want CONTAINER_RUNNING, pid %d (start %s)",
				p.handler, p.ctr, sigName(sig), cst.State, cst.Reason, cst.ExitCode, pid, startTime(pid), p.ctrPid, p.ctrStart)
		}
	}
	if t.Failed() {
		return
	}
	// The logs keep flowing: lines written after the restart arrive.
	after := map[string]int{}
	for _, p := range pods {
		after[p.ctr] = lastTick(p.log)
	}
	for _, p := range pods {
		daemontest.WaitFor(t, 30*time.Second, fmt.Sprintf("new lines in the log of %s container %s after %s and a restart (last tick %d at the restart)",
			p.handler, p.ctr, sigName(sig), after[p.ctr]),
			func() bool { return lastTick(p.log) >= after[p.ctr]+3 })
	}
}

// ownedBy is a subtest whose cleanups belong to its parent: what it
// starts outlives it (a restarted runletd), while its failures are its own.
type ownedBy struct {
	testing.TB
	owner testing.TB
}

func (o ownedBy) Cleanup(fn func()) { o.owner.Cleanup(fn) }

// runCounters runs n pods per handler, each with a counter container,
// four at a time, and waits until every log has lines.
func (f *fixture) runCounters(t *testing.T, n int) []*livePod {
	t.Helper()
	var pods []*livePod
	for _, h := range f.handlers {
		for i := range n {
			pods = append(pods, &livePod{handler: h, pod: fmt.Sprintf("%s-%d", h, i)})
		}
	}
	parallel(t, 4, len(pods), func(t *testing.T, i int) {
		p := pods[i]
		name := p.pod
		cfg := f.podConfig(t, name, 0)
		resp, err := f.Runtime.RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: p.handler})
		if err != nil {
			t.Errorf("RunPodSandbox %s: %v", name, err)
			return
		}
		p.pod = resp.PodSandboxId
		c, err := f.Runtime.CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.pod,
			Config: ctrConfig("counter", "sh", "-c", counterScript), SandboxConfig: cfg})
		if err != nil {
			t.Errorf("CreateContainer in %s: %v", name, err)
			return
		}
		p.ctr = c.ContainerId
		if _, err := f.Runtime.StartContainer(ctx(t), &runtimeapi.StartContainerRequest{ContainerId: p.ctr}); err != nil {
			t.Errorf("StartContainer in %s: %v", name, err)
			return
		}
		p.log = filepath.Join(cfg.LogDirectory, "counter.log")
	})
	if t.Failed() {
		t.FailNow()
	}
	for _, p := range pods {
		_, info := f.podInfo(t, p.pod)
		_, p.ctrPid = f.ctrStatus(t, p.ctr)
		p.pausePid = info.Pid
		p.pauseStart, p.ctrStart = startTime(p.pausePid), startTime(p.ctrPid)
		if p.pausePid == 0 || p.ctrPid == 0 || p.pauseStart == "" || p.ctrStart == "" {
			t.Fatalf("%s pod %s: pause pid %d, container pid %d: not both running", p.handler, p.pod, p.pausePid, p.ctrPid)
		}
	}
	for _, p := range pods {
		daemontest.WaitFor(t, 30*time.Second, "lines in the log of "+p.ctr, func() bool { return lastTick(p.log) > 0 })
	}
	return pods
}

var tickRE = regexp.MustCompile(`(?m) tick (\d+)$`)

// lastTick is the highest counter line in a CRI log file (0 when none).
func lastTick(path string) int {
	b, _ := os.ReadFile(path)
	max := 0
	for _, m := range tickRE.FindAllSubmatch(b, -1) {
		if n, _ := strconv.Atoi(string(m[1])); n > max {
			max = n
		}
	}
	return max
}

func sigName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return sig.String()
}

// parallel runs fn(i) for i in [0, n), at most width at once, and waits.
// fn reports with t.Errorf (never FailNow: it runs off the test's
// goroutine).
func parallel(t *testing.T, width, n int, fn func(t *testing.T, i int)) {
	t.Helper()
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(t, i)
		}()
	}
	wg.Wait()
}
