package pod

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/servicetest"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

var ctx = context.Background()

func TestRunMakesAReadyPodAndRemoveLeavesNothing(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := f.Get(id)
	if err != nil || sb.State != Ready || sb.Pid == 0 || sb.Shim.Address == "" {
		t.Fatalf("pod after Run: %+v, %v", sb, err)
	}
	if st := f.shims.Shim(id).Status(id); st != tasktypes.Status_RUNNING {
		t.Fatalf("pause task %s, want RUNNING", st)
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if f.shims.Live(id) {
		t.Fatal("the pod's shim still serves after Remove")
	}
	f.assertNothingLeft(t, f.Service)
}

func TestAFailedRunLeavesNothingAndItsRetrySucceeds(t *testing.T) {
	for _, step := range []string{"StartPod", "Create", "Start"} {
		t.Run(step, func(t *testing.T) {
			f := newFixture(t)
			boom := errors.New("injected failure")
			f.shims.FailNext(step, boom)
			if _, err := f.Run(ctx, podConfig("web"), ""); !errors.Is(err, boom) {
				t.Fatalf("Run with %s failing: %v", step, err)
			}
			f.assertNothingLeft(t, f.Service)
			if step != "StartPod" && f.shims.Calls("Shutdown") == 0 {
				t.Error("the shim started for the failed pod was not shut down")
			}
			id, err := f.Run(ctx, podConfig("web"), "")
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if err := f.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
			f.assertNothingLeft(t, f.Service)
		})
	}
}

func TestConcurrentRunsOfOneNameMakeOnePod(t *testing.T) {
	f := newFixture(t)
	ids := make([]string, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); ids[i], errs[i] = f.Run(ctx, podConfig("web"), "") }()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("call %d: %q, %v; call 0 got %q", i, ids[i], errs[i], ids[0])
		}
	}
	if n := f.shims.Calls("Create"); n != 1 {
		t.Fatalf("%d pause tasks created for one name", n)
	}
	if n := len(f.List(nil)); n != 1 {
		t.Fatalf("%d pods listed", n)
	}
}

func TestARetryOfASucceededRunGetsItsIDAndAnotherConfigIsAlreadyExists(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := f.Run(ctx, podConfig("web"), ""); err != nil || again != id {
		t.Fatalf("retry: %q, %v; want %q", again, err, id)
	}
	other := podConfig("web")
	other.Hostname = "elsewhere"
	if _, err := f.Run(ctx, other, ""); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("another config under the name: %v, want AlreadyExists", err)
	}
}

// crashAfter runs the first n steps of a RunPodSandbox and stops there,
// as a kill -9 would: the record says Creating.
func crashAfter(t *testing.T, f *fixture, n int) string {
	t.Helper()
	h, _ := f.opts.Handlers.Resolve("")
	raw, _ := marshalConfig(podConfig("web"))
	r := &run{s: f.Service, cfg: podConfig("web"), h: h, sb: f.newRecord(podConfig("web"), raw, h)}
	if err := f.claim(r.sb, nil); err != nil {
		t.Fatal(err)
	}
	steps := []func(context.Context) error{r.image, r.files, r.userns, r.network, r.bundle, r.startTask}
	for _, step := range steps[:n] {
		if err := step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return r.sb.ID
}

func TestARunCutShortAtAnyStepIsUndoneAtTheNextStart(t *testing.T) {
	for n := 0; n <= 6; n++ {
		t.Run(string(rune('0'+n)), func(t *testing.T) {
			f := newFixture(t)
			id := crashAfter(t, f, n)
			if _, err := f.Get(id); !errdefs.IsNotFound(err) {
				t.Fatalf("a pod being created is visible: %v", err)
			}
			next := f.reopen(t)
			next.Recover(ctx)
			if f.shims.Live(id) {
				t.Fatal("the crashed pod's shim still serves")
			}
			if sh := f.shims.Shim(id); sh != nil && sh.Status(id) != tasktypes.Status_UNKNOWN {
				t.Fatalf("the crashed pod's pause task is %s", sh.Status(id))
			}
			f.assertNothingLeft(t, next)
			if _, err := next.Run(ctx, podConfig("web"), ""); err != nil {
				t.Fatalf("the retry after the restart: %v", err)
			}
		})
	}
}

func TestStopTwiceAndConcurrentlyStopsTheTaskOnce(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	// Hold the first Stop's kill; the other calls must wait for it.
	release := f.shims.Block("Kill")
	defer release()
	go func() {
		servicetest.WaitForCalls(t, f.shims, "Kill", 1)
		release()
	}()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.Stop(ctx, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := f.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := f.shims.Calls("Kill"); n != 1 {
		t.Fatalf("the pause was killed %d times", n)
	}
	if sb, _ := f.Get(id); sb.State != NotReady || !sb.Stopped {
		t.Fatalf("after Stop: %+v", sb)
	}
	if len(f.ctrs.stopped) != 1 {
		t.Fatalf("containers stopped %d times", len(f.ctrs.stopped))
	}
}

func TestAShimThatDiesTakesItsContainersAndMakesThePodNotReady(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	f.shims.Kill(id)
	f.ShimExited(id)
	if sb, _ := f.Get(id); sb.State != NotReady || sb.Stopped {
		t.Fatalf("after the shim died: %+v", sb)
	}
	if len(f.ctrs.shimDied) != 1 || f.shims.Calls("Cleanup") == 0 {
		t.Fatalf("containers told %v, shim deletes %d", f.ctrs.shimDied, f.shims.Calls("Cleanup"))
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.assertNothingLeft(t, f.Service)
}

func TestAShimExitAfterStopIsNoDeath(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.ShimExited(id)
	if len(f.ctrs.shimDied) != 0 {
		t.Fatal("a shim that exited after Stop was taken for a dead one")
	}
}

func TestRecoverFindsPodsAsTheyWere(t *testing.T) {
	f := newFixture(t)
	live, err := f.Run(ctx, podConfig("live"), "")
	if err != nil {
		t.Fatal(err)
	}
	exited, err := f.Run(ctx, podConfig("exited"), "")
	if err != nil {
		t.Fatal(err)
	}
	dead, err := f.Run(ctx, podConfig("dead"), "")
	if err != nil {
		t.Fatal(err)
	}
	f.shims.Shim(exited).Exit(exited) // the pause exited while runletd was down
	f.shims.Kill(dead)                // the shim died while runletd was down
	next := f.reopen(t)
	next.Recover(ctx)
	for id, want := range map[string]State{live: Ready, exited: NotReady, dead: NotReady} {
		if sb, err := next.Get(id); err != nil || sb.State != want {
			t.Errorf("pod %s after the restart: %s, %v; want %s", id, sb.State, err, want)
		}
	}
	if _, err := next.o.Shims.(interface {
		Pod(string) (*shimmgr.Pod, error)
	}).Pod(live); err != nil {
		t.Errorf("the live pod's shim was not reconnected: %v", err)
	}
}

func TestRecoverLeavesAPodWhoseShimItCannotReachAsRecorded(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	next := f.reopen(t)
	f.shims.FailNext("Reconnect", errors.New("dial: too many open files")) // proves nothing of the shim
	next.Recover(ctx)
	if sb, _ := next.Get(id); sb.State != Ready || !next.ShimUnreachable(id) {
		t.Fatalf("a pod whose shim could not be reached: %s, unreachable %v; want ready, true", sb.State, next.ShimUnreachable(id))
	}
	if f.shims.Calls("Cleanup") != 0 || f.shims.Shim(id).Status(id) != tasktypes.Status_RUNNING {
		t.Fatal("recovery deleted the task of a shim it could not reach")
	}
}

func TestAPauseThatDiesWhileItsPodIsMadeLeavesThePodNotReady(t *testing.T) {
	f := newFixture(t)
	f.shims.DieOnStart() // its exit event found no ready pod to change
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	if sb, _ := f.Get(id); sb.State != NotReady {
		t.Fatalf("a pod whose pause died at once is %s, want notready", sb.State)
	}
}

func TestARetryWithManyLabelsGetsItsPod(t *testing.T) {
	f := newFixture(t)
	cfg := func() *runtimeapi.PodSandboxConfig {
		c := podConfig("web")
		c.Labels = map[string]string{}
		for i := range 16 { // map order differs between encodings unless they sort
			c.Labels[string(rune('a'+i))] = "v"
		}
		return c
	}
	id, err := f.Run(ctx, cfg(), "")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if again, err := f.Run(ctx, cfg(), ""); err != nil || again != id {
			t.Fatalf("a retry with the same labels: %q, %v; want %q", again, err, id)
		}
	}
}

func TestARetryAfterAResizeStillGetsItsPod(t *testing.T) {
	f := newFixture(t)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.UpdateResources(ctx, id, nil, &runtimeapi.LinuxContainerResources{CpuShares: 512}); err != nil {
		t.Fatal(err)
	}
	if again, err := f.Run(ctx, podConfig("web"), ""); err != nil || again != id {
		t.Fatalf("a retry after a resize: %q, %v; want %q", again, err, id)
	}
}
