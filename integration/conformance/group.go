package conformance

import (
	"time"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

func init() {
	register("group",
		check{"SandboxIDAnnotationSharesOneShim", func(t T, x *tx) { groupShare(t, x, "io.kubernetes.cri.sandbox-id") }},
		check{"RuncGroupAnnotationSharesOneShim", func(t T, x *tx) { groupShare(t, x, "io.containerd.runc.v2.group") }},
		check{"OOMKillPublishesOOMEventAndExit137", eventsOOM},
	)
}

// groupShare: a second container whose spec names the first as its group
// gets the same address from `start`, one shim process serves both, and
// the shim exits only once both are deleted.
func groupShare(t T, x *tx, label string) {
	sandbox := x.NewBundle(shimtest.BundleOptions{Args: []string{"sleep", "3600"}})
	first, err := x.Start(x.ctx, shimtest.StartRequest{ID: sandbox.ID, Bundle: sandbox.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	if err != nil {
		t.Fatalf("start the sandbox: %v", err)
	}
	app := x.NewBundle(shimtest.BundleOptions{Args: []string{"sleep", "3600"}, Annotations: map[string]string{label: sandbox.ID}})
	second, err := x.Start(x.ctx, shimtest.StartRequest{ID: app.ID, Bundle: app.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	if err != nil {
		t.Fatalf("start the app container: %v", err)
	}
	if first.Reply.Address != second.Reply.Address {
		t.Fatalf("%s=%s: second start printed %s, the group's shim is at %s", label, sandbox.ID, second.Reply.Address, first.Reply.Address)
	}
	s := first.Shim
	x.create(s, sandbox, nil)
	x.startTask(s, sandbox.ID, "")
	x.create(s, app, nil)
	appPid := x.startTask(s, app.ID, "")
	resp, err := s.Client.Connect(x.within(time.Minute), &task.ConnectRequest{Id: app.ID})
	if err != nil {
		t.Fatalf("Connect %s: %v", app.ID, err)
	}
	if int(resp.GetShimPid()) != s.Pid || resp.GetTaskPid() != appPid {
		t.Errorf("Connect for the app = shim %d task %d, want shim %d task %d", resp.GetShimPid(), resp.GetTaskPid(), s.Pid, appPid)
	}
	// Deleting one keeps the shim serving the other.
	x.stop(s, app.ID)
	if _, err := s.Client.Shutdown(x.within(time.Minute), &task.ShutdownRequest{Id: app.ID}); err != nil && !shimtest.IsClosedErr(err) {
		t.Errorf("Shutdown after deleting the app: %v", err)
	}
	x.state(s, sandbox.ID, "")
	x.stop(s, sandbox.ID)
}

// oomBundle is a 32 MiB container running a memory hog: the kernel
// OOM-kills it soon after Start.
func (x *tx) oomBundle() *shimtest.Bundle {
	x.t.Helper()
	return x.NewBundle(shimtest.BundleOptions{
		Args:      []string{"sh", "-c", "x=a; while :; do x=$x$x; done"},
		Resources: memoryResources(32 << 20),
	})
}

// eventsOOM: a container that outgrows its memory limit is OOM-killed:
// /tasks/oom, then exit 137.
func eventsOOM(t T, x *tx) {
	b := x.oomBundle()
	s := x.start(b)
	x.create(s, b, nil)
	x.startTask(s, b.ID, "")
	w := x.wait(s, b.ID, "")
	if w.GetExitStatus() != 137 {
		t.Errorf("OOM-killed init exit status %d, want 137", w.GetExitStatus())
	}
	waitEvent[*events.TaskOOM](x, "/tasks/oom", b.ID, nil)
	evs := x.eventsOf(b.ID)
	oom := indexOf(evs, "/tasks/oom", nil)
	if del := indexOf(evs, "/tasks/delete", nil); del >= 0 && del < oom {
		t.Errorf("events %v: /tasks/oom after /tasks/delete", topics(evs))
	}
	x.deleteTask(s, b.ID, "")
}
