package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/pod"
)

// fakeHooks stands for NRI: it records what it is told, as "Event id",
// and may refuse, hold or adjust.
type fakeHooks struct {
	// create, when set, is CreateContainer's answer (it may edit spec).
	create func(c *Container, spec *specs.Spec) error
	start  error
	// unblocked, when set, runs as BlockSync's hold ends.
	unblocked func()

	mu    sync.Mutex
	calls []string // guarded by mu
}

func (h *fakeHooks) record(event string, c *Container) {
	h.mu.Lock()
	h.calls = append(h.calls, event+" "+c.ID)
	h.mu.Unlock()
}

// Calls returns what the hooks were told, a repeated event once (NRI
// itself tells plugins a stop once; the container service may report it
// both from StopContainer and from the exit).
func (h *fakeHooks) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.calls {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (h *fakeHooks) BlockSync(context.Context) (func(), error) {
	h.record("BlockSync", &Container{})
	return func() {
		if h.unblocked != nil {
			h.unblocked()
		}
		h.record("Unblock", &Container{})
	}, nil
}

func (h *fakeHooks) CreateContainer(_ context.Context, _ *pod.Sandbox, c *Container, spec *specs.Spec) error {
	h.record("CreateContainer", c)
	if h.create != nil {
		return h.create(c, spec)
	}
	return nil
}

func (h *fakeHooks) PostCreateContainer(_ context.Context, _ *pod.Sandbox, c *Container) {
	h.record("PostCreateContainer", c)
}

func (h *fakeHooks) StartContainer(_ context.Context, _ *pod.Sandbox, c *Container) error {
	h.record("StartContainer", c)
	return h.start
}

func (h *fakeHooks) PostStartContainer(_ context.Context, _ *pod.Sandbox, c *Container) {
	h.record("PostStartContainer", c)
}

func (h *fakeHooks) UpdateContainer(_ context.Context, _ *pod.Sandbox, c *Container, r *specs.LinuxResources) (*specs.LinuxResources, error) {
	h.record("UpdateContainer", c)
	return r, nil
}

func (h *fakeHooks) PostUpdateContainer(_ context.Context, _ *pod.Sandbox, c *Container) {
	h.record("PostUpdateContainer", c)
}

func (h *fakeHooks) StopContainer(_ context.Context, _ *pod.Sandbox, c *Container) {
	h.record("StopContainer", c)
}

func (h *fakeHooks) RemoveContainer(_ context.Context, _ *pod.Sandbox, c *Container) {
	h.record("RemoveContainer", c)
}

// withHooks is a fixture whose container service tells h.
func withHooks(t *testing.T, h *fakeHooks) *fixture {
	f := newFixture(t)
	f.opts.NRI = h
	f.Service = f.reopen(t)
	return f
}

func TestHooksHearAContainersLifecycleInOrder(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.Update(ctx, id, &runtimeapi.LinuxContainerResources{CpuShares: 512}); err != nil {
		t.Fatal(err)
	}
	if err := f.Stop(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range []string{"CreateContainer", "PostCreateContainer", "StartContainer", "PostStartContainer",
		"UpdateContainer", "PostUpdateContainer", "StopContainer", "RemoveContainer"} {
		want = append(want, e+" "+id)
	}
	got := slices.DeleteFunc(h.Calls(), func(c string) bool { return c == "BlockSync " || c == "Unblock " })
	if !slices.Equal(got[:min(len(got), len(want))], want) {
		t.Fatalf("hooks told\n  %q\nwant\n  %q", got, want)
	}
}

func TestTheContainerIsNeitherListedNorFoundWhileItsCreateHookRuns(t *testing.T) {
	reached, release := make(chan string), make(chan struct{})
	f := withHooks(t, &fakeHooks{create: func(c *Container, _ *specs.Spec) error { reached <- c.ID; <-release; return nil }})
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := f.Create(ctx, f.pod, ctrConfig("app"))
		done <- result{id, err}
	}()
	id := <-reached
	if n := len(f.List(nil)); n != 0 {
		t.Errorf("%d containers listed while the hook runs", n)
	}
	if _, _, err := f.Status(id, false); !errdefs.IsNotFound(err) {
		t.Errorf("Status while the hook runs: %v, want NotFound", err)
	}
	close(release)
	r := <-done
	if r.err != nil || r.id != id {
		t.Fatalf("Create: %q, %v; the hook was told %q", r.id, r.err, id)
	}
	if st, _, err := f.Status(id, false); err != nil || st.GetState() != runtimeapi.ContainerState_CONTAINER_CREATED {
		t.Fatalf("after the hook: %v, %v", st.GetState(), err)
	}
}

func TestARefusingCreateHookLeavesNothingTellsHooksItWentAndTheRetrySucceeds(t *testing.T) {
	refused := fmt.Errorf("plugin says no: %w", errdefs.ErrFailedPrecondition)
	h := &fakeHooks{}
	h.create = func(*Container, *specs.Spec) error { h.create = nil; return refused }
	f := withHooks(t, h)
	if _, err := f.Create(ctx, f.pod, ctrConfig("app")); !errors.Is(err, refused) {
		t.Fatalf("Create with the hook refusing: %v", err)
	}
	f.assertNothingLeft(t, f.Service)
	calls := slices.DeleteFunc(h.Calls(), func(c string) bool { return c == "BlockSync " || c == "Unblock " })
	if len(calls) != 2 || calls[0][:len("CreateContainer")] != "CreateContainer" || calls[1][:len("RemoveContainer")] != "RemoveContainer" {
		t.Fatalf("hooks told %q, want the create and its undo", calls)
	}
	id := f.mustCreate(t, "app")
	if err := f.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.assertNothingLeft(t, f.Service)
}

func TestTheCreateHooksAdjustmentIsTheSpecTheShimGets(t *testing.T) {
	f := withHooks(t, &fakeHooks{create: func(_ *Container, spec *specs.Spec) error {
		spec.Process.Env = append(spec.Process.Env, "FROM_PLUGIN=yes")
		return nil
	}})
	id := f.mustCreate(t, "app")
	c, _ := f.get(id)
	b, err := os.ReadFile(filepath.Join(c.Bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(spec.Process.Env, "FROM_PLUGIN=yes") {
		t.Fatalf("bundle's env %v lacks the hook's", spec.Process.Env)
	}
}

func TestARefusingStartHookFailsTheStartAndTheTaskDoesNotRun(t *testing.T) {
	f := withHooks(t, &fakeHooks{start: fmt.Errorf("plugin says no: %w", errdefs.ErrFailedPrecondition)})
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Start with the hook refusing: %v", err)
	}
	if c, _ := f.get(id); c.State != Created {
		t.Fatalf("after a refused start: %s", c.State)
	}
	if n := f.w.Shims.Calls("Start"); n != 1 { // the pod's pause only
		t.Fatalf("shim Start called %d times", n)
	}
}

func TestResourcesAPluginAsksForGoToTheShimWithoutHooksAndNotToAnExitedContainer(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	id := f.mustCreate(t, "app")
	if err := f.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	shares := uint64(256)
	before := f.w.Shims.Calls("Update")
	if err := f.ApplyResources(ctx, id, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}}); err != nil {
		t.Fatal(err)
	}
	if n := f.w.Shims.Calls("Update") - before; n != 1 {
		t.Fatalf("shim Update called %d times", n)
	}
	if slices.ContainsFunc(h.Calls(), func(c string) bool { return c == "UpdateContainer "+id }) {
		t.Fatal("a plugin's own update was told to the plugins as an UpdateContainer")
	}
	if err := f.Stop(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.ApplyResources(ctx, id, &specs.LinuxResources{}); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("update of an exited container: %v", err)
	}
}

func TestPluginSynchronisationIsHeldOffFromBeforeTheCreateHookUntilTheContainerIsListed(t *testing.T) {
	h := &fakeHooks{}
	f := withHooks(t, h)
	listed := -1
	h.unblocked = func() { listed = len(f.List(nil)) }
	id := f.mustCreate(t, "app")
	calls := h.Calls()
	if i, j := slices.Index(calls, "BlockSync "), slices.Index(calls, "CreateContainer "+id); i < 0 || j < i {
		t.Fatalf("hooks told %q: the hold must begin before CreateContainer", calls)
	}
	if listed != 1 {
		t.Fatalf("%d containers listed as the hold ended, want the new one", listed)
	}
}
