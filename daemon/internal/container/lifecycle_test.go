package container

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/servicetest"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

func TestCreateStartStopRemoveLeavesNothing(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	if c, _ := f.get(id); c.State != Created {
		t.Fatalf("after Create: %s", c.State)
	}
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st := f.w.Shims.Shim(f.pod).Status(id); st != tasktypes.Status_RUNNING {
		t.Fatalf("task %s after Start", st)
	}
	if err := f.Stop(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.get(id); c.State != Exited || c.ExitCode != 137 {
		t.Fatalf("after Stop: %s, exit %d", c.State, c.ExitCode)
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.assertNothingLeft(t, f.Service)
}

func TestAFailedCreateLeavesNothingAndItsRetrySucceeds(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("injected failure")
	f.w.Shims.FailNext("Create", boom)
	if _, err := f.Create(ctx, f.pod, ctrConfig("app")); !errors.Is(err, boom) {
		t.Fatalf("Create with the task create failing: %v", err)
	}
	f.assertNothingLeft(t, f.Service)
	id := f.mustCreate(t, "app")
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.assertNothingLeft(t, f.Service)
}

// eight runs fn eight times at once and returns the errors.
func eight(fn func() error) []error {
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn() }()
	}
	wg.Wait()
	return errs
}

func TestConcurrentCreatesOfOneNameMakeOneContainer(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	ids := map[string]bool{}
	for _, err := range eight(func() error {
		id, err := f.Create(ctx, f.pod, ctrConfig("app"))
		mu.Lock()
		ids[id] = true
		mu.Unlock()
		return err
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(ids) != 1 || len(f.List(nil)) != 1 {
		t.Fatalf("ids %v, %d listed; want one", ids, len(f.List(nil)))
	}
	if n := f.w.Shims.Calls("Create"); n != 2 { // the pause's and the container's
		t.Fatalf("%d tasks created", n)
	}
}

func TestConcurrentStartsStartOnceAndAllSucceed(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	// Hold the first task start; the other calls must wait for it.
	release := f.w.Shims.Block("Start")
	defer release()
	go func() {
		servicetest.WaitForCalls(t, f.w.Shims, "Start", 2) // the pause's, and the first of ours
		release()
	}()
	for _, err := range eight(func() error { return f.Start(ctx, id) }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.w.Shims.Calls("Start"); n != 2 {
		t.Fatalf("%d task starts for 8 concurrent StartContainer calls of one container", n-1)
	}
}

func TestConcurrentRemovesAllSucceedAndLeaveNothing(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, err := range eight(func() error { return f.Remove(ctx, id) }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.assertNothingLeft(t, f.Service)
}

func TestStartOfAnExitedContainerIsFailedPrecondition(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	if err := f.Stop(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(ctx, id); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Start of an exited container: %v", err)
	}
}

func TestStopReportsAContainerThatDidNotDie(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.w.Shims.FailNext("Wait", errors.New("the shim lost track of it"))
	if err := f.Stop(ctx, id, 0); err == nil {
		t.Fatal("Stop succeeded while the container's exit was never seen")
	}
}

// crashAfter runs the first n steps of a CreateContainer and stops there,
// as a kill -9 would: the record says Creating.
func crashAfter(t *testing.T, f *fixture, n int) string {
	t.Helper()
	r, err := f.newCreate(f.pod, ctrConfig("app"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.claim(r.c, nil); err != nil {
		t.Fatal(err)
	}
	steps := []func(context.Context) error{r.resolveImage, r.rootfs, r.volumes, r.stdio, r.bundle, r.task}
	for _, step := range steps[:n] {
		if err := step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if r.io != nil {
		r.io.Close() // the daemon's ends die with it
	}
	return r.c.ID
}

func TestACreateCutShortAtAnyStepIsUndoneAtTheNextStart(t *testing.T) {
	for n := 0; n <= 6; n++ {
		t.Run(string(rune('0'+n)), func(t *testing.T) {
			f := newFixture(t)
			id := crashAfter(t, f, n)
			if _, err := f.get(id); !errdefs.IsNotFound(err) {
				t.Fatalf("a container being created is visible: %v", err)
			}
			next := f.reopen(t)
			next.Recover(ctx)
			if st := f.w.Shims.Shim(f.pod).Status(id); st != tasktypes.Status_UNKNOWN {
				t.Fatalf("the crashed container's task is %s", st)
			}
			f.assertNothingLeft(t, next)
			if _, err := next.Create(ctx, f.pod, ctrConfig("app")); err != nil {
				t.Fatalf("the retry after the restart: %v", err)
			}
		})
	}
}

func TestRecoverRecordsAStartTheCrashKeptFromTheRecord(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	t1 := f.w.Shims.Shim(f.pod)
	if _, err := t1.Start(context.Background(), startRequest(id)); err != nil {
		t.Fatal(err) // the task started; runletd died before recording it
	}
	next := f.reopen(t)
	next.Recover(ctx)
	if c, _ := next.get(id); c.State != Running || c.Pid == 0 {
		t.Fatalf("after the restart: %s pid %d, want running", c.State, c.Pid)
	}
	if err := next.Start(ctx, id); err != nil {
		t.Fatalf("the retried Start: %v", err)
	}
}

func TestADeadShimLeavesItsContainersExitedWithReasonShimDied(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.w.Shims.Kill(f.pod)
	f.ShimDied(ctx, f.pod)
	c, _ := f.get(id)
	if c.State != Exited || c.Reason != shimDiedReason || c.Message == "" || c.ExitCode != 137 {
		t.Fatalf("after the shim died: %s reason %q message %q exit %d", c.State, c.Reason, c.Message, c.ExitCode)
	}
	if f.w.Shims.Calls("Cleanup") == 0 {
		t.Fatal("the dead shim's delete was not run for the container")
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.assertNothingLeft(t, f.Service)
}

func TestARemovePodSandboxRacingACreateContainerWaitsForItAndLeavesNothing(t *testing.T) {
	f := newFixture(t)
	release := f.w.Shims.Block("Create")
	defer release()
	created := make(chan error, 1)
	go func() {
		_, err := f.Create(ctx, f.pod, ctrConfig("app"))
		created <- err
	}()
	servicetest.WaitForCalls(t, f.w.Shims, "Create", 2) // the pause's, and the container's, held
	removed := make(chan error, 1)
	go func() { removed <- f.opts.Pods.Remove(ctx, f.pod) }()
	select {
	case err := <-removed:
		t.Fatalf("RemovePodSandbox returned (%v) while a CreateContainer of the pod was half-way", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if err := <-created; err != nil {
		t.Fatalf("the CreateContainer that began first: %v", err)
	}
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if n := len(f.List(nil)); n != 0 {
		t.Errorf("%d containers listed after their pod was removed", n)
	}
	f.w.AssertEmpty(t, bucket, namesBucket)
	if f.w.Shims.Live(f.pod) {
		t.Error("the pod's shim outlived RemovePodSandbox")
	}
	if _, err := f.Create(ctx, f.pod, ctrConfig("late")); !errdefs.IsNotFound(err) {
		t.Errorf("CreateContainer in a removed pod: %v, want NotFound", err)
	}
}

func TestAnExecTheContainersEndBeatIsFailedPreconditionNotTheShimsNotFound(t *testing.T) {
	f := newFixture(t)
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	tasks := f.w.Shims.Shim(f.pod)
	gone := fmt.Errorf("task %q: %w", id, errdefs.ErrNotFound)
	if err := execAddError(ctx, tasks, id, gone); !errdefs.IsNotFound(err) {
		t.Fatalf("a NotFound while the container runs: %v, want it passed on", err)
	}
	tasks.Exit(id)
	err := execAddError(ctx, tasks, id, gone)
	if !errdefs.IsFailedPrecondition(err) || errdefs.IsNotFound(err) {
		t.Fatalf("an Exec the container's end beat: %v, want FailedPrecondition only", err)
	}
}
