package conformance

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// The same call eight times at once on one task, as a kubelet retrying a
// timed-out call sends it while the first still runs. Each check proves
// three things: the shim survives (it answers, and a bystander container in
// the same shim is unharmed), exactly one call has the effect (one event,
// one process), and every other call gets a defined answer.
func init() {
	register("duplicates",
		check{"EightStartsOfOneTaskStartItOnce", dupStarts},
		check{"EightKillsOfOneTaskExitItOnce", dupKills},
		check{"EightDeletesOfOneTaskDeleteItOnce", dupDeletes},
		check{"EightExecsWithOneExecIDAddAndRunItOnce", dupExecs},
		check{"StartRacingKillEndsInOneExit", dupStartKill},
	)
}

// racers is how many identical calls each check sends at once.
const racers = 8

// race runs call racers times at once (released together) and returns
// every error, by racer.
func race(call func(i int) error) []error {
	errs := make([]error, racers)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			errs[i] = call(i)
		}()
	}
	close(release)
	wg.Wait()
	return errs
}

// oneSucceeds requires exactly one nil error; every other error must have
// code want (or, under the declared deviation, fail with any code).
func (x *tx) oneSucceeds(what string, errs []error, want codes.Code, dev Deviation) {
	x.t.Helper()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		x.wantCodeUnless(dev, fmt.Sprintf("%s (racer %d)", what, i), err, want)
	}
	if ok != 1 {
		x.t.Errorf("%s: %d of %d calls succeeded, want exactly 1 (errors %v)", what, ok, racers, errs)
	}
}

// pod starts a shim with a running bystander container (the pod's
// sandbox) and returns a new member bundle of that pod running args,
// served by the same shim.
func (x *tx) pod(args ...string) (s *shimtest.Shim, bystander, member *shimtest.Bundle) {
	x.t.Helper()
	bystander = x.bundle("sleep", "3600")
	s = x.start(bystander)
	x.create(s, bystander, nil)
	x.startTask(s, bystander.ID, "")
	member = x.NewBundle(shimtest.BundleOptions{Args: args,
		Annotations: map[string]string{"io.kubernetes.cri.sandbox-id": bystander.ID}})
	st, err := x.Start(x.ctx, shimtest.StartRequest{ID: member.ID, Bundle: member.Path, Gen: shimtest.Gen2, MaxVersion: x.maxVersion, Options: x.Options()})
	if err != nil {
		x.t.Fatal(err)
	}
	if st.Shim != s {
		x.t.Fatalf("member %s got shim %s, the pod's is %s", member.ID, st.Reply.Address, s.Address)
	}
	return s, bystander, member
}

// runningPod is pod with the member's task created and started.
func (x *tx) runningPod(args ...string) (s *shimtest.Shim, bystander, member *shimtest.Bundle) {
	x.t.Helper()
	s, bystander, member = x.pod(args...)
	x.create(s, member, nil)
	x.startTask(s, member.ID, "")
	return s, bystander, member
}

// survived checks that the shim still serves, as the same process, and
// that the bystander still runs; then it stops the bystander.
func (x *tx) survived(s *shimtest.Shim, bystander *shimtest.Bundle) {
	x.t.Helper()
	c, err := s.Client.Connect(x.within(time.Minute), &task.ConnectRequest{Id: bystander.ID})
	if err != nil {
		x.t.Fatalf("the shim no longer answers after the racing calls: %v", err)
	}
	if int(c.GetShimPid()) != s.Pid {
		x.t.Errorf("Connect names shim pid %d, the shim was %d", c.GetShimPid(), s.Pid)
	}
	x.wantStatus(s, bystander.ID, "", tasktypes.Status_RUNNING)
	x.stop(s, bystander.ID)
}

// publishedOnce requires exactly one event of topic for container id
// that pred accepts (nil: any), counted once /tasks/delete of id arrived
// (events arrive in order, so none can follow).
func publishedOnce[T proto.Message](x *tx, topic, id string, pred func(T) bool) {
	x.t.Helper()
	waitEvent[*events.TaskDelete](x, "/tasks/delete", id, nil)
	n := 0
	for _, e := range x.eventsOf(id) {
		if m, ok := e.Message.(T); ok && e.Topic == topic && (pred == nil || pred(m)) {
			n++
		}
	}
	if n != 1 {
		x.t.Errorf("%d %s events for %s, want 1", n, topic, id)
	}
}

// dupStarts: eight Starts of one created task: one starts it, the others
// fail with FailedPrecondition (it is no longer created); the init pid is
// the one Create reported and /tasks/start is published once.
func dupStarts(t T, x *tx) {
	s, bystander, b := x.pod("sleep", "3600")
	pid := x.create(s, b, nil)
	pids := make([]uint32, racers)
	errs := race(func(i int) error {
		resp, err := s.Client.Start(x.within(time.Minute), &task.StartRequest{Id: b.ID})
		pids[i] = resp.GetPid()
		return err
	})
	x.oneSucceeds("Start of one task", errs, codes.FailedPrecondition, DuplicateStartCode)
	for i, err := range errs {
		if err == nil && pids[i] != pid {
			t.Errorf("Start answered pid %d, Create reported %d", pids[i], pid)
		}
	}
	if st := x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING); st.GetPid() != pid {
		t.Errorf("State pid %d, want %d", st.GetPid(), pid)
	}
	x.stop(s, b.ID)
	publishedOnce[*events.TaskStart](x, "/tasks/start", b.ID, nil)
	x.survived(s, bystander)
}

// dupKills: eight SIGKILLs and eight Waits of one running task at once:
// every Kill succeeds or finds the process gone (NotFound), every Wait
// returns 137, and the exit is published once.
func dupKills(t T, x *tx) {
	s, bystander, b := x.runningPod("sleep", "3600")
	waits := make([]*task.WaitResponse, racers)
	var wg sync.WaitGroup
	wg.Add(1)
	var waitErrs []error
	go func() {
		defer wg.Done()
		waitErrs = race(func(i int) (err error) {
			waits[i], err = s.Client.Wait(x.within(2*time.Minute), &task.WaitRequest{Id: b.ID})
			return err
		})
	}()
	killErrs := race(func(int) error {
		_, err := s.Client.Kill(x.within(time.Minute), &task.KillRequest{Id: b.ID, Signal: uint32(syscall.SIGKILL)})
		return err
	})
	wg.Wait()
	for i, err := range killErrs {
		if err != nil && status.Code(err) != codes.NotFound {
			t.Errorf("Kill (racer %d): %v, want success or NotFound", i, err)
		}
	}
	for i, err := range waitErrs {
		if err != nil || waits[i].GetExitStatus() != 137 {
			t.Errorf("Wait (racer %d): %v %v, want exit 137", i, waits[i], err)
		}
	}
	x.deleteTask(s, b.ID, "")
	publishedOnce[*events.TaskExit](x, "/tasks/exit", b.ID, nil)
	x.survived(s, bystander)
}

// dupDeletes: eight Deletes of one exited task: one deletes it (with its
// exit status), the others find it gone (NotFound); the rootfs is
// unmounted and /tasks/delete published once.
func dupDeletes(t T, x *tx) {
	s, bystander, b := x.runningPod("sh", "-c", "exit 5")
	x.wait(s, b.ID, "")
	resps := make([]*task.DeleteResponse, racers)
	errs := race(func(i int) (err error) {
		resps[i], err = s.Client.Delete(x.within(time.Minute), &task.DeleteRequest{Id: b.ID})
		return err
	})
	x.oneSucceeds("Delete of one exited task", errs, codes.NotFound, "")
	for i, err := range errs {
		if err == nil && resps[i].GetExitStatus() != 5 {
			t.Errorf("Delete answered exit %d, want 5", resps[i].GetExitStatus())
		}
	}
	if rootfsMounted(b) {
		t.Errorf("rootfs of %s still mounted after Delete", b.ID)
	}
	_, err := s.Client.State(x.within(time.Minute), &task.StateRequest{Id: b.ID})
	wantCode(t, "State of the deleted task", err, codes.NotFound)
	publishedOnce[*events.TaskDelete](x, "/tasks/delete", b.ID, nil)
	x.survived(s, bystander)
}

// dupExecs: eight Execs with one exec id: one adds it, the others get
// AlreadyExists; eight Starts of it run it once (its output appears once);
// eight Deletes of it once it exited: one succeeds, the others NotFound.
func dupExecs(t T, x *tx) {
	s, bystander, b := x.runningPod("sleep", "3600")
	const execID = "once"
	io := x.NewStdio(shimtest.StdioOptions{})
	req := &task.ExecProcessRequest{Id: b.ID, ExecId: execID, Stdout: io.Stdout, Stderr: io.Stderr,
		Spec: x.processSpec(b, false, "sh", "-c", "echo ran; exit 3")}
	errs := race(func(int) error {
		_, err := s.Client.Exec(x.within(time.Minute), req)
		return err
	})
	x.oneSucceeds("Exec with one exec id", errs, codes.AlreadyExists, "")
	errs = race(func(int) error {
		_, err := s.Client.Start(x.within(time.Minute), &task.StartRequest{Id: b.ID, ExecId: execID})
		return err
	})
	x.oneSucceeds("Start of one exec", errs, codes.FailedPrecondition, DuplicateStartCode)
	if w := x.wait(s, b.ID, execID); w.GetExitStatus() != 3 {
		t.Errorf("exec exit %d, want 3", w.GetExitStatus())
	}
	errs = race(func(int) error {
		_, err := s.Client.Delete(x.within(time.Minute), &task.DeleteRequest{Id: b.ID, ExecId: execID})
		return err
	})
	x.oneSucceeds("Delete of one exited exec", errs, codes.NotFound, "")
	if err := io.WaitEOF(x.within(time.Minute)); err != nil {
		t.Error(err)
	}
	if got := io.Out.String(); got != "ran\n" {
		t.Errorf("exec stdout %q, want one %q: the exec ran %d times", got, "ran\n", strings.Count(got, "ran"))
	}
	x.stop(s, b.ID)
	isOnce := func(id string) bool { return id == execID }
	publishedOnce(x, "/tasks/exec-added", b.ID, func(e *events.TaskExecAdded) bool { return isOnce(e.GetExecId()) })
	publishedOnce(x, "/tasks/exec-started", b.ID, func(e *events.TaskExecStarted) bool { return isOnce(e.GetExecId()) })
	x.survived(s, bystander)
}

// dupStartKill: four Starts and four SIGKILLs of one created task at once.
// Whichever wins, the task ends exited by the signal (137), every Wait
// returns that, and exactly one /tasks/exit is published. A Start fails
// only with FailedPrecondition (started already, or killed first); a Kill
// succeeds or finds the process gone (NotFound).
func dupStartKill(t T, x *tx) {
	s, bystander, b := x.pod("sleep", "3600")
	x.create(s, b, nil)
	errs := race(func(i int) error {
		ctx := x.within(time.Minute)
		if i%2 == 0 {
			_, err := s.Client.Start(ctx, &task.StartRequest{Id: b.ID})
			return err
		}
		_, err := s.Client.Kill(ctx, &task.KillRequest{Id: b.ID, Signal: uint32(syscall.SIGKILL)})
		return err
	})
	t.Logf("racing Start/Kill answers: %v", errs)
	for i, err := range errs {
		switch {
		case err == nil:
		case i%2 == 0:
			x.wantCodeUnless(DuplicateStartCode, fmt.Sprintf("Start (racer %d)", i), err, codes.FailedPrecondition)
		case status.Code(err) != codes.NotFound:
			t.Errorf("Kill (racer %d): %v, want success or NotFound", i, err)
		}
	}
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 137 {
		t.Errorf("exit %d, want 137", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
	publishedOnce[*events.TaskExit](x, "/tasks/exit", b.ID, nil)
	x.survived(s, bystander)
}
