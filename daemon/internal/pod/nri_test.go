package pod

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeHooks stands for NRI: it records what it is told, as "Event id",
// and may refuse or hold RunPodSandbox.
type fakeHooks struct {
	// run, when set, is RunPodSandbox's answer; update UpdatePodSandbox's.
	run    func(sb *Sandbox) error
	update func(sb *Sandbox) error
	// seen, when set, is called with each event as it is told.
	seen func(event string, sb *Sandbox)
	// unblocked, when set, runs as BlockSync's hold ends; held tells
	// whether a hold is on.
	unblocked func()
	held      bool

	mu    sync.Mutex
	calls []string // guarded by mu
}

func (h *fakeHooks) record(event string, sb *Sandbox) {
	if h.seen != nil {
		h.seen(event, sb)
	}
	h.mu.Lock()
	h.calls = append(h.calls, event+" "+sb.ID)
	h.mu.Unlock()
}

func (h *fakeHooks) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

func (h *fakeHooks) BlockSync(context.Context) (func(), error) {
	h.held = true
	return func() {
		if h.unblocked != nil {
			h.unblocked()
		}
		h.held = false
	}, nil
}

func (h *fakeHooks) RunPodSandbox(_ context.Context, sb *Sandbox) error {
	h.record("RunPodSandbox", sb)
	if !h.held {
		return fmt.Errorf("RunPodSandbox told with plugin synchronisation not held off")
	}
	if h.run != nil {
		return h.run(sb)
	}
	return nil
}

func (h *fakeHooks) StopPodSandbox(_ context.Context, sb *Sandbox) { h.record("StopPodSandbox", sb) }

func (h *fakeHooks) RemovePodSandbox(_ context.Context, sb *Sandbox) {
	h.record("RemovePodSandbox", sb)
}

func (h *fakeHooks) UpdatePodSandbox(_ context.Context, sb *Sandbox, _, _ *runtimeapi.LinuxContainerResources) error {
	h.record("UpdatePodSandbox", sb)
	if h.update != nil {
		return h.update(sb)
	}
	return nil
}

func (h *fakeHooks) PostUpdatePodSandbox(_ context.Context, sb *Sandbox) {
	h.record("PostUpdatePodSandbox", sb)
}

// withHooks is a fixture whose service tells h.
func withHooks(t *testing.T, h *fakeHooks) *fixture {
	f := newFixture(t)
	f.opts.NRI = h
	f.Service = f.reopen(t)
	return f
}

func TestThePodIsNeitherListedNorFoundWhileItsRunHookRuns(t *testing.T) {
	reached, release := make(chan string), make(chan struct{})
	h := &fakeHooks{run: func(sb *Sandbox) error { reached <- sb.ID; <-release; return nil }}
	f := withHooks(t, h)
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := f.Run(ctx, podConfig("web"), "")
		done <- result{id, err}
	}()
	id := <-reached
	if n := len(f.List(nil)); n != 0 {
		t.Errorf("%d pods listed while the hook runs", n)
	}
	if _, err := f.Get(id); !errdefs.IsNotFound(err) {
		t.Errorf("Get while the hook runs: %v, want NotFound", err)
	}
	close(release)
	r := <-done
	if r.err != nil || r.id != id {
		t.Fatalf("Run: %q, %v; the hook was told %q", r.id, r.err, id)
	}
	if sb, err := f.Get(id); err != nil || sb.State != Ready {
		t.Fatalf("after the hook: %+v, %v", sb, err)
	}
}

func TestARefusingRunHookFailsTheRunLeavesNothingAndTheRetrySucceeds(t *testing.T) {
	refused := fmt.Errorf("plugin says no: %w", errdefs.ErrFailedPrecondition)
	h := &fakeHooks{}
	h.run = func(*Sandbox) error { h.run = nil; return refused }
	f := withHooks(t, h)
	if _, err := f.Run(ctx, podConfig("web"), ""); !errors.Is(err, refused) {
		t.Fatalf("Run with the hook refusing: %v", err)
	}
	f.assertNothingLeft(t, f.Service)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.assertNothingLeft(t, f.Service)
}

func TestStopTellsHooksAfterTheContainersStoppedAndRemoveBeforeTheFilesGo(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	h.seen = func(event string, sb *Sandbox) {
		switch event {
		case "StopPodSandbox":
			if !slices.Contains(f.ctrs.stopped, sb.ID) {
				t.Errorf("StopPodSandbox told before the pod's containers stopped")
			}
			if !f.shims.Live(sb.ID) {
				t.Errorf("StopPodSandbox told after the pod's shim went")
			}
		case "RemovePodSandbox":
			if !hasSpec(sb.Bundle) {
				t.Errorf("RemovePodSandbox told after the pod's bundle went")
			}
		}
	}
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.Stop(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	want := []string{"RunPodSandbox " + id, "StopPodSandbox " + id, "RemovePodSandbox " + id}
	if got := h.Calls(); !slices.Equal(got, want) {
		t.Fatalf("hooks told %q, want %q", got, want)
	}
}

func TestPluginSynchronisationIsHeldOffAcrossTheRunHookUntilThePodIsListed(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	listed := -1
	h.unblocked = func() { listed = len(f.List(nil)) }
	if _, err := f.Run(ctx, podConfig("web"), ""); err != nil {
		t.Fatal(err) // the hook refuses when told without the hold
	}
	if listed != 1 {
		t.Fatalf("%d pods listed as the hold ended, want the new one", listed)
	}
}

func TestAResizeIsToldToPluginsBeforeAndAfterAndARefusalRecordsNothing(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	cpuShares := func() int64 {
		sb, err := f.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := sb.CRIConfig()
		if err != nil {
			t.Fatal(err)
		}
		return cfg.GetLinux().GetResources().GetCpuShares()
	}
	h.update = func(*Sandbox) error { return fmt.Errorf("plugin says no: %w", errdefs.ErrFailedPrecondition) }
	if err := f.UpdateResources(ctx, id, nil, &runtimeapi.LinuxContainerResources{CpuShares: 512}); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("a refused resize: %v, want the plugin's FailedPrecondition", err)
	}
	if got := cpuShares(); got != 0 {
		t.Fatalf("a refused resize recorded cpu shares %d", got)
	}
	h.update = nil
	if err := f.UpdateResources(ctx, id, nil, &runtimeapi.LinuxContainerResources{CpuShares: 512}); err != nil {
		t.Fatal(err)
	}
	if got := cpuShares(); got != 512 {
		t.Fatalf("cpu shares %d after the resize, want 512", got)
	}
	want := []string{"RunPodSandbox " + id, "UpdatePodSandbox " + id, "UpdatePodSandbox " + id, "PostUpdatePodSandbox " + id}
	if got := h.Calls(); !slices.Equal(got, want) {
		t.Fatalf("hooks told %v, want %v", got, want)
	}
	if err := f.UpdateResources(ctx, "no-such-pod", nil, nil); !errdefs.IsNotFound(err) {
		t.Fatalf("resizing an unknown pod: %v, want NotFound", err)
	}
}

func TestConcurrentResizesOfOnePodRunOneAtATimeAndAllSucceed(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	id, err := f.Run(ctx, podConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	var in, most atomic.Int32
	h.update = func(*Sandbox) error {
		n := in.Add(1)
		defer in.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.UpdateResources(ctx, id, nil, &runtimeapi.LinuxContainerResources{CpuShares: int64(100 + i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("resize #%d: %v", i, err)
		}
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d resizes of one pod ran at once, want one at a time", m)
	}
	posts := 0
	for _, c := range h.Calls() {
		if c == "PostUpdatePodSandbox "+id {
			posts++
		}
	}
	if posts != 8 {
		t.Errorf("%d PostUpdatePodSandbox events for 8 resizes", posts)
	}
}
