package shim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"

	"github.com/runlet/runlet/bundle/bundletest"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

type topics struct {
	mu  sync.Mutex
	got []string
}

func (r *topics) handle(_ context.Context, env *types.Envelope) error {
	r.mu.Lock()
	r.got = append(r.got, env.GetTopic())
	r.mu.Unlock()
	return nil
}

func (r *topics) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// TestStartRunsATaskThroughEveryShim drives our shim (JSON reply, task v3)
// and containerd 1.6's (raw address, task v2) through the same calls.
func TestStartRunsATaskThroughEveryShim(t *testing.T) {
	if testing.Short() {
		t.Skip("runs shims and runc")
	}
	bundletest.RequireRoot(t)
	shims := map[string]string{"runlet": bundletest.ShimBinary(t, "runlet-shim-runc-v2")}
	if _, err := os.Stat("/usr/bin/containerd-shim-runc-v2"); err == nil {
		shims["containerd"] = "/usr/bin/containerd-shim-runc-v2"
	}
	for name, binary := range shims {
		t.Run(name, func(t *testing.T) { runTask(t, binary) })
	}
}

func runTask(t *testing.T, binary string) {
	b := bundletest.NewBundle(t, "sh", "-c", "exit 7")
	dir := t.TempDir()
	rec := &topics{}
	events, err := ServeEvents(filepath.Join(dir, "events.sock"), rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := Config{
		Binary: binary, ID: b.ID, Namespace: bundletest.Namespace, Bundle: b.Path,
		DaemonAddress: filepath.Join(dir, "daemon.sock"), EventsAddress: events.Address, MaxVersion: 3,
		Env: []string{"RUNLET_SHIM_SOCKET_DIR=" + filepath.Join(dir, "s")},
	}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Cleanup(func() { // on failure too: no task or shim outlives the test
		bg := context.Background()
		s.Task.Kill(bg, &task.KillRequest{Id: b.ID, Signal: 9, All: true})
		s.Task.Delete(bg, &task.DeleteRequest{Id: b.ID})
		s.Task.Shutdown(bg, &task.ShutdownRequest{Id: b.ID})
	})
	if _, err := s.Task.State(ctx, &task.StateRequest{Id: "no-such-task"}); !errdefs.IsNotFound(err) {
		t.Fatalf("State of an unknown task: %v, want errdefs NotFound", err)
	}
	if _, err := s.Task.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Task.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	w, err := s.Task.Wait(ctx, &task.WaitRequest{Id: b.ID})
	if err != nil || w.GetExitStatus() != 7 {
		t.Fatalf("Wait = %v, %v; want exit 7", w, err)
	}
	if _, err := s.Task.Delete(ctx, &task.DeleteRequest{Id: b.ID}); err != nil {
		t.Fatal(err)
	}
	// containerd's shim may exit before its Shutdown reply is sent, so a
	// closed connection is a Shutdown done (containerd's client agrees).
	if _, err := s.Task.Shutdown(ctx, &task.ShutdownRequest{Id: b.ID}); err != nil && !errors.Is(err, ttrpc.ErrClosed) {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("the shim did not exit after Shutdown")
	}
	want := []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.list()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // containerd's shim may send its last event as it goes
	}
	if got := rec.list(); len(got) < len(want) || got[0] != want[0] || got[3] != want[3] {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestDeleteCleansUpAfterAShimThatIsGone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a shim")
	}
	bundletest.RequireRoot(t)
	b := bundletest.NewBundle(t, "true")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := Delete(ctx, Config{Binary: bundletest.ShimBinary(t, "runlet-shim-runc-v2"), ID: b.ID, Namespace: bundletest.Namespace, Bundle: b.Path})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetExitStatus() != 137 || resp.GetExitedAt() == nil {
		t.Fatalf("delete response %v, want exit status 137", resp)
	}
}

func TestStartOfAMissingShimIsNotFound(t *testing.T) {
	_, err := Start(context.Background(), Config{Binary: "no-such-shim", ID: "x", Namespace: "n", Bundle: t.TempDir()})
	if !errdefs.IsNotFound(err) {
		t.Fatalf("Start of a missing shim: %v", err)
	}
}
