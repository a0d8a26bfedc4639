package conformance

import (
	"slices"
	"time"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
)

func init() {
	register("eventsaway",
		check{"OOMAndExitWhileTheDaemonIsAwayReachTheNextDaemon", awayOOMExitKept},
		check{"StalledEventsServerDoesNotBlockWaitOrExit", awayStalled},
	)
}

// keptAttempts is how many refused deliveries a shim must survive with its
// events kept: more than containerd 1.6 makes for two events (six each)
// and than runlet's shims made before they kept events.
const keptAttempts = 16

// awayOOMExitKept: the daemon's events socket is gone while a container
// is OOM-killed; then something on that path refuses connections for
// keptAttempts deliveries (a daemon starting up); then a new daemon serves
// the path. It receives /tasks/oom and /tasks/exit, in that order.
func awayOOMExitKept(t T, x *tx) {
	if !x.s.cfg.claims(EventsKept) {
		t.Skipf("capability %s not claimed: a shim that drops events after a while cannot be told apart by a probe", EventsKept)
	}
	b := x.oomBundle()
	s := x.start(b)
	x.create(s, b, nil)
	x.startTask(s, b.ID, "")
	waitEvent[*events.TaskStart](x, "/tasks/start", b.ID, nil)
	if err := x.StopEvents(x.within(time.Minute)); err != nil {
		t.Logf("close events server: %v", err)
	}
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 137 {
		t.Errorf("OOM-killed init exit status %d, want 137", w.GetExitStatus())
	}
	refuser, err := shimtest.Refuse(x.Events.Socket)
	if err != nil {
		t.Fatal(err)
	}
	n, err := refuser.WaitAttempts(x.within(2*time.Minute), keptAttempts)
	refuser.Close()
	if err != nil {
		t.Fatalf("the shim stopped trying to deliver its events after %d refused connections: %v", n, err)
	}
	if err := x.ServeEvents(); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.TaskOOM](x, "/tasks/oom", b.ID, nil)
	waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, func(e *events.TaskExit) bool { return e.GetExitStatus() == 137 })
	evs := x.eventsOf(b.ID)
	if oom, exit := indexOf(evs, "/tasks/oom", nil), indexOf(evs, "/tasks/exit", nil); oom > exit {
		t.Errorf("the new daemon got %v: /tasks/oom after /tasks/exit", topics(evs))
	}
	x.deleteTask(s, b.ID, "")
	waitEvent[*events.TaskDelete](x, "/tasks/delete", b.ID, nil)
}

// awayStalled: a daemon that takes event calls and answers none does not
// hold up the exit: Wait returns the status and Delete works; once the
// daemon answers again, the events arrive in order.
func awayStalled(t T, x *tx) {
	b := x.bundle("sh", "-c", "exit 7")
	s := x.start(b)
	x.Events.Stall()
	t.Cleanup(x.Events.Unstall)
	x.create(s, b, nil)
	x.startTask(s, b.ID, "")
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 7 {
		t.Errorf("exit %d, want 7", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
	x.Events.Unstall()
	waitEvent[*events.TaskDelete](x, "/tasks/delete", b.ID, nil)
	// Delivery is at least once: a call the stalled daemon never answered
	// may come again, right after itself.
	want := []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}
	if got := topics(x.eventsOf(b.ID)); !slices.Equal(slices.Compact(got), want) {
		t.Errorf("events after the stall %v, want %v", got, want)
	}
}
