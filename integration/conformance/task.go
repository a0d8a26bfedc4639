package conformance

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

func init() {
	register("task",
		check{"LifecycleStateCreateStartWaitDeleteWithBindRootfs", taskLifecycle},
		check{"UnknownIDIsNotFoundForEveryRPC", taskUnknownID},
		check{"DuplicateIDIsAlreadyExists", taskDuplicate},
		check{"PidsListsEveryProcessWithExecDetails", taskPids},
		check{"PauseResumeFreezeAndThawWithEvents", taskPauseResume},
		check{"KillSignalsInitOnlyOrAllProcesses", taskKillAll},
		check{"ExitCodeOfKilledInitIs137", taskKilled},
		check{"UpdateChangesMemoryLimitInCgroup", taskUpdate},
		check{"StatsReturnsCgroupMetrics", taskStats},
		check{"ConnectReportsShimAndTaskPid", taskConnect},
		check{"ShutdownKeepsServingWhileTaskExistsExitsWhenNone", taskShutdown},
	)
}

// taskLifecycle walks one task through every state, with the rootfs given
// as a bind mount the shim must mount at bundle/rootfs and unmount on
// Delete, and checks every reply and event payload.
func taskLifecycle(t T, x *tx) {
	b := x.bundle("sh", "-c", "read x; echo out $x; echo err >&2; exit 3")
	s := x.start(b)
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	pid := x.create(s, b, io)

	st := x.wantStatus(s, b.ID, "", tasktypes.Status_CREATED)
	if st.GetPid() != pid || st.GetId() != b.ID || st.GetBundle() != b.Path {
		t.Errorf("State after Create: id %q pid %d bundle %q; want %q %d %q", st.GetId(), st.GetPid(), st.GetBundle(), b.ID, pid, b.Path)
	}
	if st.GetStdin() != io.Stdin || st.GetStdout() != io.Stdout || st.GetStderr() != io.Stderr || st.GetTerminal() {
		t.Errorf("State stdio = %q %q %q terminal %v, want the request's", st.GetStdin(), st.GetStdout(), st.GetStderr(), st.GetTerminal())
	}
	if !rootfsMounted(b) {
		t.Errorf("rootfs bind mount not mounted at %s after Create (mounts under bundle: %v)", b.RootfsTarget(), shimtest.MountsUnder(b.Path))
	}
	if got := x.startTask(s, b.ID, ""); got != pid {
		t.Errorf("Start pid %d, Create pid %d", got, pid)
	}
	x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING)
	if err := io.Write(x.within(time.Minute), []byte("in\n")); err != nil {
		t.Fatal(err)
	}
	w := x.wait(s, b.ID, "")
	if w.GetExitStatus() != 3 {
		t.Errorf("Wait exit status %d, want 3", w.GetExitStatus())
	}
	if w.GetExitedAt() == nil || w.GetExitedAt().AsTime().IsZero() {
		t.Errorf("Wait exited_at unset")
	}
	st = x.wantStatus(s, b.ID, "", tasktypes.Status_STOPPED)
	if st.GetExitStatus() != 3 {
		t.Errorf("State exit status %d after exit, want 3", st.GetExitStatus())
	}
	if !st.GetExitedAt().AsTime().Equal(w.GetExitedAt().AsTime()) {
		t.Errorf("State exited_at %v, Wait said %v", st.GetExitedAt().AsTime(), w.GetExitedAt().AsTime())
	}
	// A second Wait on an exited process answers at once with the same.
	if w2 := x.wait(s, b.ID, ""); w2.GetExitStatus() != 3 {
		t.Errorf("second Wait exit status %d, want 3", w2.GetExitStatus())
	}
	if err := io.WaitEOF(x.within(time.Minute)); err != nil {
		t.Error(err)
	}
	if got := io.Out.String(); got != "out in\n" {
		t.Errorf("stdout %q, want %q", got, "out in\n")
	}
	if got := io.Err.String(); got != "err\n" {
		t.Errorf("stderr %q, want %q", got, "err\n")
	}
	d := x.deleteTask(s, b.ID, "")
	if d.GetExitStatus() != 3 || d.GetPid() != pid {
		t.Errorf("Delete = pid %d status %d, want %d 3", d.GetPid(), d.GetExitStatus(), pid)
	}
	if !d.GetExitedAt().AsTime().Equal(w.GetExitedAt().AsTime()) {
		t.Errorf("Delete exited_at %v, Wait said %v", d.GetExitedAt().AsTime(), w.GetExitedAt().AsTime())
	}
	if rootfsMounted(b) {
		t.Errorf("rootfs still mounted at %s after Delete", b.RootfsTarget())
	}
	_, err := s.Client.State(x.within(time.Minute), &task.StateRequest{Id: b.ID})
	wantCode(t, "State after Delete", err, codes.NotFound)

	create := waitEvent[*events.TaskCreate](x, "/tasks/create", b.ID, nil)
	if create.GetPid() != pid || create.GetBundle() != b.Path || create.GetIo().GetStdout() != io.Stdout ||
		create.GetIo().GetStdin() != io.Stdin || create.GetIo().GetStderr() != io.Stderr || len(create.GetRootfs()) != 1 {
		t.Errorf("/tasks/create payload %v; want pid %d bundle %s the request's stdio and rootfs", create, pid, b.Path)
	}
	if start := waitEvent[*events.TaskStart](x, "/tasks/start", b.ID, nil); start.GetPid() != pid {
		t.Errorf("/tasks/start pid %d, want %d", start.GetPid(), pid)
	}
	exit := waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, nil)
	if exit.GetPid() != pid || exit.GetExitStatus() != 3 || exit.GetId() != b.ID || exit.GetExitedAt() == nil {
		t.Errorf("/tasks/exit payload %v; want pid %d status 3 id %s", exit, pid, b.ID)
	}
	del := waitEvent[*events.TaskDelete](x, "/tasks/delete", b.ID, nil)
	if del.GetPid() != pid || del.GetExitStatus() != 3 {
		t.Errorf("/tasks/delete payload %v; want pid %d status 3", del, pid)
	}
	order := topics(x.eventsOf(b.ID))
	if !slices.Equal(order, []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}) {
		t.Errorf("events %v, want create, start, exit, delete", order)
	}
	for _, e := range x.eventsOf(b.ID) {
		if e.Namespace != x.Namespace {
			t.Errorf("event %s in namespace %q, want %q", e.Topic, e.Namespace, x.Namespace)
		}
	}
}

// taskUnknownID: every RPC naming a task the shim does not have (or an
// exec the task does not have) fails with NotFound.
func taskUnknownID(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	c := s.Client
	ctx := x.within(2 * time.Minute)
	const id = "no-such-task"
	calls := []struct {
		name string
		err  func(id, execID string) error
	}{
		{"State", func(id, e string) error { _, err := c.State(ctx, &task.StateRequest{Id: id, ExecId: e}); return err }},
		{"Start", func(id, e string) error { _, err := c.Start(ctx, &task.StartRequest{Id: id, ExecId: e}); return err }},
		{"Delete", func(id, e string) error { _, err := c.Delete(ctx, &task.DeleteRequest{Id: id, ExecId: e}); return err }},
		{"Kill", func(id, e string) error {
			_, err := c.Kill(ctx, &task.KillRequest{Id: id, ExecId: e, Signal: uint32(syscall.SIGTERM)})
			return err
		}},
		{"ResizePty", func(id, e string) error {
			_, err := c.ResizePty(ctx, &task.ResizePtyRequest{Id: id, ExecId: e, Width: 80, Height: 24})
			return err
		}},
		{"CloseIO", func(id, e string) error {
			_, err := c.CloseIO(ctx, &task.CloseIORequest{Id: id, ExecId: e, Stdin: true})
			return err
		}},
		{"Wait", func(id, e string) error { _, err := c.Wait(ctx, &task.WaitRequest{Id: id, ExecId: e}); return err }},
	}
	for _, call := range calls {
		wantCode(t, call.name+" of an unknown task", call.err(id, ""), codes.NotFound)
		if call.name == "CloseIO" {
			x.wantCodeUnless(CloseIOUnknownExecCode, "CloseIO of an unknown exec", call.err(b.ID, "no-such-exec"), codes.NotFound)
			continue
		}
		wantCode(t, call.name+" of an unknown exec", call.err(b.ID, "no-such-exec"), codes.NotFound)
	}
	taskOnly := []struct {
		name string
		err  error
	}{
		{"Pids", func() error { _, err := c.Pids(ctx, &task.PidsRequest{Id: id}); return err }()},
		{"Pause", func() error { _, err := c.Pause(ctx, &task.PauseRequest{Id: id}); return err }()},
		{"Resume", func() error { _, err := c.Resume(ctx, &task.ResumeRequest{Id: id}); return err }()},
		{"Update", func() error {
			_, err := c.Update(ctx, &task.UpdateTaskRequest{Id: id, Resources: specAny(t, "LinuxResources", memoryResources(64<<20))})
			return err
		}()},
		{"Stats", func() error { _, err := c.Stats(ctx, &task.StatsRequest{Id: id}); return err }()},
		{"Exec", func() error {
			_, err := c.Exec(ctx, &task.ExecProcessRequest{Id: id, ExecId: "e1", Spec: x.processSpec(b, false, "true")})
			return err
		}()},
		{"Checkpoint", func() error {
			_, err := c.Checkpoint(ctx, &task.CheckpointTaskRequest{Id: id, Path: x.Dir + "/ckpt-unknown"})
			return err
		}()},
	}
	for _, call := range taskOnly {
		wantCode(t, call.name+" of an unknown task", call.err, codes.NotFound)
	}
	// The real task is unharmed.
	x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING)
	x.stop(s, b.ID)
}

// taskDuplicate: a second Create or Exec with an id in use is
// AlreadyExists, and the first is unharmed.
func taskDuplicate(t T, x *tx) {
	s, b, _, pid := x.run("sleep", "3600")
	_, err := s.Client.Create(x.within(time.Minute), x.createReq(b, nil, false))
	x.wantCodeUnless(DuplicateCreateCode, "second Create with the same id", err, codes.AlreadyExists)
	x.exec(s, b, "dup", nil, false, "sleep", "3600")
	_, err = s.Client.Exec(x.within(time.Minute), &task.ExecProcessRequest{Id: b.ID, ExecId: "dup", Spec: x.processSpec(b, false, "true")})
	wantCode(t, "second Exec with the same exec id", err, codes.AlreadyExists)
	if st := x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING); st.GetPid() != pid {
		t.Errorf("task pid %d after the duplicate Create, want %d", st.GetPid(), pid)
	}
	x.kill(s, b.ID, "dup", syscall.SIGKILL, false)
	x.wait(s, b.ID, "dup")
	x.deleteTask(s, b.ID, "dup")
	x.stop(s, b.ID)
}

// taskPids: Pids lists the init and its children, and an exec's pid with
// ProcessDetails naming its exec id.
func taskPids(t T, x *tx) {
	s, b, _, pid := x.run("sh", "-c", "sleep 3600 & sleep 3601 & wait")
	epid := x.exec(s, b, "pids-exec", nil, false, "sleep", "3602")
	var procs []*tasktypes.ProcessInfo
	// The init's children appear once the shell forked them.
	err := waitUntil(x.within(time.Minute), func() bool {
		resp, err := s.Client.Pids(x.within(time.Minute), &task.PidsRequest{Id: b.ID})
		if err != nil {
			t.Fatalf("Pids: %v", err)
		}
		procs = resp.GetProcesses()
		return len(procs) >= 4
	})
	if err != nil {
		t.Errorf("Pids = %v, want init, its two sleeps and the exec", procs)
	}
	var sawInit, sawExec bool
	for _, p := range procs {
		switch p.GetPid() {
		case pid:
			sawInit = true
		case epid:
			sawExec = true
			var d options.ProcessDetails
			if p.GetInfo() == nil {
				t.Errorf("exec pid %d has no ProcessDetails info", epid)
			} else if err := p.GetInfo().UnmarshalTo(&d); err != nil || d.GetExecId() != "pids-exec" {
				t.Errorf("exec info %v: %v (exec id %q), want ProcessDetails{exec_id: pids-exec}", p.GetInfo(), err, d.GetExecId())
			}
		}
	}
	if !sawInit || !sawExec {
		t.Errorf("Pids %v lacks init %d (%v) or exec %d (%v)", procs, pid, sawInit, epid, sawExec)
	}
	x.kill(s, b.ID, "pids-exec", syscall.SIGKILL, false)
	x.wait(s, b.ID, "pids-exec")
	x.deleteTask(s, b.ID, "pids-exec")
	x.stop(s, b.ID)
}

// taskPauseResume: Pause freezes (State PAUSED, /tasks/paused, the
// freezer says so), Resume thaws (RUNNING, /tasks/resumed).
func taskPauseResume(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	if _, err := s.Client.Pause(x.within(time.Minute), &task.PauseRequest{Id: b.ID}); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	x.wantStatus(s, b.ID, "", tasktypes.Status_PAUSED)
	freezer := shimtest.CgroupFile(b.CgroupsPath, "freezer", "freezer.state", "cgroup.freeze")
	if got, err := os.ReadFile(freezer); err != nil {
		t.Errorf("read freezer: %v", err)
	} else if v := strings.TrimSpace(string(got)); v != "FROZEN" && v != "1" {
		t.Errorf("%s = %q while paused", freezer, v)
	}
	waitEvent[*events.TaskPaused](x, "/tasks/paused", b.ID, nil)
	if _, err := s.Client.Resume(x.within(time.Minute), &task.ResumeRequest{Id: b.ID}); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING)
	waitEvent[*events.TaskResumed](x, "/tasks/resumed", b.ID, nil)
	order := topics(x.eventsOf(b.ID))
	if p, r := slices.Index(order, "/tasks/paused"), slices.Index(order, "/tasks/resumed"); p < 0 || r < p {
		t.Errorf("events %v: paused must precede resumed", order)
	}
	x.stop(s, b.ID)
}

// taskKillAll: a signal without All reaches only the init; with All it
// reaches every process of the container. Both shells trap USR1 and USR2;
// USR1 goes to the init alone, then USR2 to all: once the child has run
// its USR2 trap it has run any pending USR1 trap too (ash runs pending
// traps in signal order), so a missing "child-usr1" is proof, not timing.
func taskKillAll(t T, x *tx) {
	script := `trap 'echo init-usr1' USR1; trap 'echo init-usr2' USR2; ` +
		`sh -c "trap 'echo child-usr1' USR1; trap 'echo child-usr2' USR2; echo child-ready; while :; do sleep 1; done" & ` +
		`echo init-ready; while :; do sleep 1; done`
	s, b, io, _ := x.run("sh", "-c", script)
	x.output(io.Out, "stdout", "child-ready")
	x.output(io.Out, "stdout", "init-ready")
	x.kill(s, b.ID, "", syscall.SIGUSR1, false)
	x.output(io.Out, "stdout", "init-usr1")
	x.kill(s, b.ID, "", syscall.SIGUSR2, true)
	x.output(io.Out, "stdout", "init-usr2")
	x.output(io.Out, "stdout", "child-usr2")
	if strings.Contains(io.Out.String(), "child-usr1") {
		t.Errorf("Kill without All reached a child process: %q", io.Out.String())
	}
	x.kill(s, b.ID, "", syscall.SIGKILL, true)
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 137 {
		t.Errorf("exit status %d after Kill All SIGKILL, want 137", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
}

// taskKilled: an init killed by SIGKILL exits 137, in Wait, State, the
// exit event and Delete.
func taskKilled(t T, x *tx) {
	s, b, _, pid := x.run("sleep", "3600")
	x.kill(s, b.ID, "", syscall.SIGKILL, false)
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 137 {
		t.Errorf("Wait exit status %d, want 137", w.GetExitStatus())
	}
	if st := x.state(s, b.ID, ""); st.GetExitStatus() != 137 || st.GetStatus() != tasktypes.Status_STOPPED {
		t.Errorf("State %v status %d, want STOPPED 137", st.GetStatus(), st.GetExitStatus())
	}
	exit := waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, nil)
	if exit.GetExitStatus() != 137 || exit.GetPid() != pid {
		t.Errorf("/tasks/exit %v, want pid %d status 137", exit, pid)
	}
	if d := x.deleteTask(s, b.ID, ""); d.GetExitStatus() != 137 {
		t.Errorf("Delete exit status %d, want 137", d.GetExitStatus())
	}
}

// taskUpdate: Update with new LinuxResources changes the memory limit the
// kernel enforces.
func taskUpdate(t T, x *tx) {
	b := x.NewBundle(shimtest.BundleOptions{Args: []string{"sleep", "3600"}, Resources: memoryResources(64 << 20)})
	s := x.start(b)
	x.create(s, b, nil)
	x.startTask(s, b.ID, "")
	file := shimtest.CgroupFile(b.CgroupsPath, "memory", "memory.limit_in_bytes", "memory.max")
	if got := readInt(t, file); got != 64<<20 {
		t.Errorf("%s = %d before Update, want %d", file, got, 64<<20)
	}
	res := memoryResources(128 << 20)
	if _, err := s.Client.Update(x.within(time.Minute), &task.UpdateTaskRequest{Id: b.ID, Resources: specAny(t, "LinuxResources", res)}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := readInt(t, file); got != 128<<20 {
		t.Errorf("%s = %d after Update, want %d", file, got, 128<<20)
	}
	x.stop(s, b.ID)
}

func readInt(t T, file string) int64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("read %s: %v", file, err)
		return -1
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Errorf("%s holds %q", file, b)
	}
	return v
}

// taskConnect: Connect names the serving process and the task's pid.
func taskConnect(t T, x *tx) {
	s, b, _, pid := x.run("sleep", "3600")
	resp, err := s.Client.Connect(x.within(time.Minute), &task.ConnectRequest{Id: b.ID})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if int(resp.GetShimPid()) != s.Pid || resp.GetTaskPid() != pid {
		t.Errorf("Connect = shim %d task %d, want %d %d", resp.GetShimPid(), resp.GetTaskPid(), s.Pid, pid)
	}
	if data, err := os.ReadFile(b.Path + "/shim.pid"); err == nil && strings.TrimSpace(string(data)) != strconv.Itoa(s.Pid) {
		t.Errorf("bundle shim.pid %q, Connect shim_pid %d", data, s.Pid)
	}
	if !s.Alive() {
		t.Errorf("shim pid %d from Connect is not a live process", s.Pid)
	}
	x.stop(s, b.ID)
}

// taskShutdown: Shutdown while a task exists leaves the shim serving;
// once the task is deleted, Shutdown makes it exit and remove its socket.
func taskShutdown(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	_, err := s.Client.Shutdown(x.within(time.Minute), &task.ShutdownRequest{Id: b.ID})
	if err != nil {
		t.Fatalf("Shutdown with a live task: %v", err)
	}
	// Still serving: an RPC after Shutdown is answered.
	x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING)
	if !s.Alive() {
		t.Fatalf("shim exited on Shutdown while a task existed")
	}
	x.stop(s, b.ID)
	_, err = s.Client.Shutdown(x.within(time.Minute), &task.ShutdownRequest{Id: b.ID})
	if err != nil && !shimtest.IsClosedErr(err) {
		t.Errorf("Shutdown with no task: %v", err)
	}
	if err := s.WaitExit(x.within(time.Minute)); err != nil {
		t.Fatalf("shim did not exit after Shutdown with no task left: %v", err)
	}
	if _, err := os.Lstat(shimtest.SocketPath(s.Address)); !os.IsNotExist(err) {
		t.Errorf("socket %s still there after the shim exited: %v", s.Address, err)
	}
}
