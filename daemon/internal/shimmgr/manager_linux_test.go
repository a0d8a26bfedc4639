package shimmgr

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
	"github.com/runlet/runlet/runtimeclass"
)

type recorder struct {
	mu     sync.Mutex
	topics map[string][]string // task id -> the topics of its events, in order
	exited chan string
}

func newRecorder() *recorder {
	return &recorder{topics: map[string][]string{}, exited: make(chan string, 4)}
}

func (r *recorder) event(_ context.Context, env *types.Envelope) error {
	id := taskOf(env)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics[id] = append(r.topics[id], env.GetTopic())
	return nil
}

// taskOf decodes the container id of a task lifecycle event ("" for
// other events).
func taskOf(env *types.Envelope) string {
	var ev interface {
		proto.Message
		GetContainerId() string
	}
	switch env.GetTopic() {
	case "/tasks/create":
		ev = &events.TaskCreate{}
	case "/tasks/start":
		ev = &events.TaskStart{}
	case "/tasks/exit":
		ev = &events.TaskExit{}
	case "/tasks/delete":
		ev = &events.TaskDelete{}
	default:
		return ""
	}
	if proto.Unmarshal(env.GetEvent().GetValue(), ev) != nil {
		return ""
	}
	return ev.GetContainerId()
}

func (r *recorder) of(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.topics[id])
}

type fixture struct {
	m   *Manager
	set *runtimeclass.Set
	rec *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("runs shims and runc")
	}
	bundletest.RequireRoot(t)
	t.Setenv("RUNLET_SHIM_SOCKET_DIR", filepath.Join(t.TempDir(), "s"))
	set, err := runtimeclass.New("runc", map[string]runtimeclass.Runtime{
		"runc": {Shim: bundletest.ShimBinary(t, "runlet-shim-runc-v2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	dir := t.TempDir()
	m, err := New(Config{StateDir: dir, DaemonAddress: filepath.Join(dir, "cri.sock"), OnEvent: rec.event,
		OnShimExit: func(id string) { rec.exited <- id }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return &fixture{m: m, set: set, rec: rec}
}

// podBundle is a sandbox-like bundle: it runs sleep, grouped by its id.
func podBundle(t *testing.T, sandboxID string) *bundle.Bundle {
	b := bundletest.NewBundle(t, "sleep", "300")
	spec, err := bundle.ReadSpec(b.Path)
	if err != nil {
		t.Fatal(err)
	}
	if sandboxID == "" {
		sandboxID = b.ID
	}
	spec.Annotations = map[string]string{"io.kubernetes.cri.sandbox-id": sandboxID}
	if err := bundle.WriteSpec(b.Path, spec); err != nil {
		t.Fatal(err)
	}
	return b
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func run(t *testing.T, ctx context.Context, tk task.TaskService, b *bundle.Bundle) {
	t.Helper()
	if _, err := tk.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
}

func stop(t *testing.T, ctx context.Context, tk task.TaskService, id string) {
	t.Helper()
	if _, err := tk.Kill(ctx, &task.KillRequest{Id: id, Signal: 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Wait(ctx, &task.WaitRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Delete(ctx, &task.DeleteRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
}

// startPod starts a pod's shim with its sandbox task running.
func startPod(t *testing.T, ctx context.Context, f *fixture) (*runtimeclass.Handler, *Pod, *bundle.Bundle) {
	t.Helper()
	h, _ := f.set.Resolve("")
	sb := podBundle(t, "")
	pod, err := f.m.StartPod(ctx, h, sb.ID, sb.Path)
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, pod.Task(), sb)
	return h, pod, sb
}

func TestOneShimServesEveryContainerOfAPod(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	h, pod, sb := startPod(t, ctx, f)
	app := podBundle(t, sb.ID)
	run(t, ctx, pod.Task(), app)
	c1, _ := pod.Task().Connect(ctx, &task.ConnectRequest{Id: sb.ID})
	c2, _ := pod.Task().Connect(ctx, &task.ConnectRequest{Id: app.ID})
	if c1.GetShimPid() == 0 || c1.GetShimPid() != c2.GetShimPid() {
		t.Fatalf("shim pids %d and %d, want one shim", c1.GetShimPid(), c2.GetShimPid())
	}
	if _, err := f.m.StartPod(ctx, h, sb.ID, sb.Path); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second StartPod: %v", err)
	}
	stop(t, ctx, pod.Task(), app.ID)
	stop(t, ctx, pod.Task(), sb.ID)
	if err := f.m.Shutdown(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	expectShimExit(t, f, sb.ID)
	// Every task's lifecycle reached the daemon in order, from the one shim.
	want := []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}
	for _, id := range []string{sb.ID, app.ID} {
		if got := f.rec.of(id); !slices.Equal(got, want) {
			t.Errorf("events of task %s: %v, want %v", id, got, want)
		}
	}
}

func TestReconnectAfterARestartSeesTheRunningTask(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	_, pod, sb := startPod(t, ctx, f)
	rec := pod.Record()
	st, _ := pod.Task().State(ctx, &task.StateRequest{Id: sb.ID})
	// A new manager, as after runletd restarts, reconnects from the record.
	f.m.Close(ctx)
	f2 := newFixture(t)
	again, err := f2.m.Reconnect(ctx, f.set, rec)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := again.Task().State(ctx, &task.StateRequest{Id: sb.ID})
	if err != nil || st2.GetPid() != st.GetPid() || st2.GetStatus() != st.GetStatus() {
		t.Fatalf("after reconnect: %v %v; before %v", st2, err, st)
	}
	stop(t, ctx, again.Task(), sb.ID)
	f2.m.Shutdown(ctx, sb.ID)
	expectShimExit(t, f2, sb.ID)
}

func TestDeadShimIsReportedAndCleanedUp(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	h, pod, sb := startPod(t, ctx, f)
	c, _ := pod.Task().Connect(ctx, &task.ConnectRequest{Id: sb.ID})
	shimProc, _ := os.FindProcess(int(c.GetShimPid()))
	if err := shimProc.Kill(); err != nil {
		t.Fatal(err)
	}
	expectShimExit(t, f, sb.ID)
	if _, err := f.m.Pod(sb.ID); !errdefs.IsNotFound(err) {
		t.Fatalf("pod of a dead shim still tracked: %v", err)
	}
	resp, err := f.m.Cleanup(ctx, h, sb.ID, sb.Path)
	if err != nil || resp.GetExitStatus() != 137 {
		t.Fatalf("cleanup: %v, %v", resp, err)
	}
}

func expectShimExit(t *testing.T, f *fixture, id string) {
	t.Helper()
	select {
	case got := <-f.rec.exited:
		if got != id {
			t.Fatalf("shim exit reported for %q, want %q", got, id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shim exit never reported")
	}
}
