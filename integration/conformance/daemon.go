package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

func init() {
	register("daemon",
		check{"StartRecordsAddressInBundleForRecovery", daemonAddressFile},
		check{"ReconnectedClientSeesTasksAndWaitReturns", daemonReconnect},
		check{"EventsServerAwayDoesNotBlockTasks", daemonEventsAway},
		check{"KillOfExitedProcessIsNotFound", daemonKillExited},
		check{"EnvelopesCarryNamespaceAndTimestamp", daemonEnvelopes},
	)
}

// daemonAddressFile: `start` leaves bundle/address holding the address it
// printed: a restarted containerd finds its shims through it.
func daemonAddressFile(t T, x *tx) {
	b := x.bundle("true")
	st, err := x.Start(x.ctx, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(b.Path, "address"))
	if err != nil {
		t.Fatalf("bundle/address: %v", err)
	}
	if got := strings.TrimSpace(string(data)); got != st.Reply.Address {
		t.Errorf("bundle/address %q, start printed %q", got, st.Reply.Address)
	}
}

// daemonReconnect: a daemon that restarts dials the shim again; the tasks
// are still there and a Wait on the new connection returns the exit.
func daemonReconnect(t T, x *tx) {
	s, b, _, pid := x.run("sleep", "3600")
	if err := s.Reconnect(x.within(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING); st.GetPid() != pid {
		t.Errorf("pid %d after reconnecting, want %d", st.GetPid(), pid)
	}
	type result struct {
		w   *task.WaitResponse
		err error
	}
	waited := make(chan result, 1)
	wctx := x.within(2 * time.Minute)
	go func() {
		w, err := s.Client.Wait(wctx, &task.WaitRequest{Id: b.ID})
		waited <- result{w, err}
	}()
	x.kill(s, b.ID, "", syscall.SIGKILL, false)
	select {
	case r := <-waited:
		if r.err != nil {
			t.Fatalf("Wait on the new connection: %v", r.err)
		}
		if r.w.GetExitStatus() != 137 {
			t.Errorf("Wait after reconnecting: exit %d, want 137", r.w.GetExitStatus())
		}
	case <-wctx.Done():
		t.Fatalf("Wait on the new connection never returned")
	}
	x.deleteTask(s, b.ID, "")
}

// daemonEventsAway: with nobody serving TTRPC_ADDRESS the shim still runs
// tasks; publishing must never block an RPC.
func daemonEventsAway(t T, x *tx) {
	b := x.bundle("sh", "-c", "echo hi; exit 7")
	s := x.start(b)
	if err := x.Events.Close(x.within(time.Minute)); err != nil {
		t.Logf("close events server: %v", err)
	}
	io := x.NewStdio(shimtest.StdioOptions{})
	x.create(s, b, io)
	x.startTask(s, b.ID, "")
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 7 {
		t.Errorf("exit %d, want 7", w.GetExitStatus())
	}
	x.output(io.Out, "stdout", "hi")
	x.deleteTask(s, b.ID, "")
}

// daemonKillExited: Kill of a process that has exited is NotFound (the
// daemon ignores NotFound when it stops a task that died on its own).
func daemonKillExited(t T, x *tx) {
	s, b, _, _ := x.run("true")
	x.wait(s, b.ID, "")
	_, err := s.Client.Kill(x.within(time.Minute), &task.KillRequest{Id: b.ID, Signal: uint32(syscall.SIGKILL)})
	wantCode(t, "Kill of an exited init", err, codes.NotFound)
	x.deleteTask(s, b.ID, "")
}

// daemonEnvelopes: every envelope carries the namespace of the shim and a
// timestamp.
func daemonEnvelopes(t T, x *tx) {
	s, b, _, _ := x.run("true")
	x.wait(s, b.ID, "")
	x.deleteTask(s, b.ID, "")
	waitEvent[*events.TaskDelete](x, "/tasks/delete", b.ID, nil)
	for _, e := range x.Events.Events() {
		if e.Namespace != x.Namespace {
			t.Errorf("%s: namespace %q, want %q", e.Topic, e.Namespace, x.Namespace)
		}
		if e.Timestamp.IsZero() || e.Timestamp.Unix() <= 0 {
			t.Errorf("%s: no timestamp", e.Topic)
		}
		if e.Message == nil {
			t.Errorf("%s: payload %s does not decode: %v", e.Topic, e.TypeURL, e.DecodeErr)
		}
	}
}
