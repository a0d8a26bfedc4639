package conformance

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

func init() {
	register("exec",
		check{"ExecLifecycleEventsAndExitBeforeInitExit", execLifecycle},
		check{"ResizePtyChangesTerminalSizeOfExec", execResizePty},
		check{"CloseIOEndsStdinClientCloseDoesNot", execCloseIO},
		check{"TwentySequentialAndTenConcurrentExecs", execMany},
		check{"TerminalOutputIsFullyDeliveredAtExit", execTerminalDrain},
		check{"CloseIOOfInitEndsItsStdin", execCloseIOInit},
		check{"WaitReturnsWhileABackgroundChildHoldsStdout", execChildHoldsStdout},
	)
}

// execLifecycle: an exec goes CREATED, RUNNING, STOPPED with its own pid,
// output and exit code; events exec-added, exec-started, exit (with the
// exec id), and when the init dies while an exec runs, the exec's exit is
// published before the init's.
func execLifecycle(t T, x *tx) {
	s, b, _, initPid := x.run("sleep", "3600")
	io := x.NewStdio(shimtest.StdioOptions{})
	req := &task.ExecProcessRequest{Id: b.ID, ExecId: "e1", Spec: x.processSpec(b, false, "sh", "-c", "echo exec-out; echo exec-err >&2; exit 5"),
		Stdout: io.Stdout, Stderr: io.Stderr}
	if _, err := s.Client.Exec(x.within(time.Minute), req); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	x.wantStatus(s, b.ID, "e1", tasktypes.Status_CREATED)
	added := waitEvent[*events.TaskExecAdded](x, "/tasks/exec-added", b.ID, nil)
	if added.GetExecId() != "e1" {
		t.Errorf("/tasks/exec-added %v, want exec id e1", added)
	}
	pid := x.startTask(s, b.ID, "e1")
	if pid == initPid {
		t.Errorf("exec pid %d is the init's", pid)
	}
	started := waitEvent[*events.TaskExecStarted](x, "/tasks/exec-started", b.ID, nil)
	if started.GetExecId() != "e1" || started.GetPid() != pid {
		t.Errorf("/tasks/exec-started %v, want exec e1 pid %d", started, pid)
	}
	w := x.wait(s, b.ID, "e1")
	if w.GetExitStatus() != 5 {
		t.Errorf("exec exit status %d, want 5", w.GetExitStatus())
	}
	st := x.wantStatus(s, b.ID, "e1", tasktypes.Status_STOPPED)
	// containerd 1.6 names the exec in id, later versions in exec_id too.
	if st.GetExitStatus() != 5 || st.GetPid() != pid || (st.GetExecId() != "e1" && st.GetId() != "e1") {
		t.Errorf("exec State %v, want exec e1 pid %d status 5", st, pid)
	}
	exit := waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, func(e *events.TaskExit) bool { return e.GetId() == "e1" })
	if exit.GetPid() != pid || exit.GetExitStatus() != 5 {
		t.Errorf("/tasks/exit of the exec %v, want pid %d status 5", exit, pid)
	}
	if err := io.WaitEOF(x.within(time.Minute)); err != nil {
		t.Error(err)
	}
	if io.Out.String() != "exec-out\n" || io.Err.String() != "exec-err\n" {
		t.Errorf("exec stdout %q stderr %q", io.Out.String(), io.Err.String())
	}
	if d := x.deleteTask(s, b.ID, "e1"); d.GetExitStatus() != 5 || d.GetPid() != pid {
		t.Errorf("Delete of the exec = pid %d status %d, want %d 5", d.GetPid(), d.GetExitStatus(), pid)
	}
	x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING)

	// An exec still running when the init dies: its exit comes first.
	x.exec(s, b, "e2", nil, false, "sleep", "3600")
	x.kill(s, b.ID, "", syscall.SIGKILL, false)
	x.wait(s, b.ID, "")
	waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, func(e *events.TaskExit) bool { return e.GetId() == b.ID })
	evs := x.eventsOf(b.ID)
	e2 := indexOf(evs, "/tasks/exit", func(e shimtest.Event) bool { return e.Message.(*events.TaskExit).GetId() == "e2" })
	ini := indexOf(evs, "/tasks/exit", func(e shimtest.Event) bool { return e.Message.(*events.TaskExit).GetId() == b.ID })
	if e2 < 0 || e2 > ini {
		t.Errorf("exit of exec e2 at %d, of the init at %d: the exec's exit must come first; events %v", e2, ini, topics(evs))
	}
	if w := x.wait(s, b.ID, "e2"); w.GetExitStatus() != 137 {
		t.Errorf("exec e2 killed with its container: exit %d, want 137", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
	order := topics(evs)
	want := []string{"/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/exit"}
	for i, topic := range want {
		if i >= len(order) || order[i] != topic {
			t.Errorf("events %v, want them to begin with %v", order, want)
			break
		}
	}
}

// execResizePty: an exec with a terminal sees the size ResizePty sets.
func execResizePty(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true, Terminal: true})
	x.exec(s, b, "tty", io, true, "sh", "-c", "echo ready; read x; stty size")
	x.output(io.Out, "terminal", "ready")
	if _, err := s.Client.ResizePty(x.within(time.Minute), &task.ResizePtyRequest{Id: b.ID, ExecId: "tty", Width: 123, Height: 45}); err != nil {
		t.Fatalf("ResizePty: %v", err)
	}
	if err := io.Write(x.within(time.Minute), []byte("go\n")); err != nil {
		t.Fatal(err)
	}
	x.output(io.Out, "terminal", "45 123")
	if w := x.wait(s, b.ID, "tty"); w.GetExitStatus() != 0 {
		t.Errorf("exec exit %d, want 0", w.GetExitStatus())
	}
	if st := x.state(s, b.ID, "tty"); !st.GetTerminal() {
		t.Errorf("exec State terminal = false")
	}
	x.deleteTask(s, b.ID, "tty")
	x.stop(s, b.ID)
}

// execCloseIO: closing the client's end of the stdin FIFO is not EOF for
// the process (a client may re-attach); CloseIO is. `cat` echoes what it
// reads and exits on EOF.
func execCloseIO(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	x.exec(s, b, "cat", io, false, "cat")
	if err := io.Write(x.within(time.Minute), []byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	x.output(io.Out, "stdout", "hello\n")
	if err := io.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	// Re-attach: had the close been EOF, cat would have exited and
	// nothing would read this.
	if err := io.ReopenStdin(x.within(time.Minute)); err != nil {
		t.Fatalf("re-open stdin: %v", err)
	}
	if err := io.Write(x.within(time.Minute), []byte("again\n")); err != nil {
		t.Fatalf("write after re-attaching: %v", err)
	}
	x.output(io.Out, "stdout", "hello\nagain\n")
	x.wantStatus(s, b.ID, "cat", tasktypes.Status_RUNNING)
	// The end of input, as containerd's client does it: close our end,
	// then CloseIO closes the shim's.
	if err := io.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.CloseIO(x.within(time.Minute), &task.CloseIORequest{Id: b.ID, ExecId: "cat", Stdin: true}); err != nil {
		t.Fatalf("CloseIO: %v", err)
	}
	if w := x.wait(s, b.ID, "cat"); w.GetExitStatus() != 0 {
		t.Errorf("cat exit %d after CloseIO, want 0", w.GetExitStatus())
	}
	if err := io.WaitEOF(x.within(time.Minute)); err != nil {
		t.Error(err)
	}
	if got := io.Out.String(); got != "hello\nagain\n" {
		t.Errorf("cat echoed %q", got)
	}
	x.deleteTask(s, b.ID, "cat")
	x.stop(s, b.ID)
}

// execMany: 20 execs one after the other, then 10 at once, each with its
// own output and exit code.
func execMany(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	// Stdio sets are made on the test goroutine (NewStdio may t.Fatal).
	runOne := func(i int, io *shimtest.Stdio) error {
		id := fmt.Sprintf("many-%d", i)
		req := &task.ExecProcessRequest{Id: b.ID, ExecId: id, Stdout: io.Stdout, Stderr: io.Stderr,
			Spec: x.processSpec(b, false, "sh", "-c", fmt.Sprintf("echo out-%d; echo err-%d >&2; exit %d", i, i, i%7))}
		ctx := x.within(2 * time.Minute)
		if _, err := s.Client.Exec(ctx, req); err != nil {
			return fmt.Errorf("Exec %s: %w", id, err)
		}
		if _, err := s.Client.Start(ctx, &task.StartRequest{Id: b.ID, ExecId: id}); err != nil {
			return fmt.Errorf("Start %s: %w", id, err)
		}
		w, err := s.Client.Wait(ctx, &task.WaitRequest{Id: b.ID, ExecId: id})
		if err != nil {
			return fmt.Errorf("Wait %s: %w", id, err)
		}
		if err := io.WaitEOF(ctx); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		var errs []string
		if w.GetExitStatus() != uint32(i%7) {
			errs = append(errs, fmt.Sprintf("exit %d, want %d", w.GetExitStatus(), i%7))
		}
		if got, want := io.Out.String(), fmt.Sprintf("out-%d\n", i); got != want {
			errs = append(errs, fmt.Sprintf("stdout %q, want %q", got, want))
		}
		if got, want := io.Err.String(), fmt.Sprintf("err-%d\n", i); got != want {
			errs = append(errs, fmt.Sprintf("stderr %q, want %q", got, want))
		}
		if _, err := s.Client.Delete(ctx, &task.DeleteRequest{Id: b.ID, ExecId: id}); err != nil {
			errs = append(errs, fmt.Sprintf("Delete: %v", err))
		}
		io.Close()
		if len(errs) > 0 {
			return fmt.Errorf("%s: %s", id, strings.Join(errs, "; "))
		}
		return nil
	}
	for i := 0; i < 20; i++ {
		if err := runOne(i, x.NewStdio(shimtest.StdioOptions{})); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 20; i < 30; i++ {
		io := x.NewStdio(shimtest.StdioOptions{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runOne(i, io)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	x.stop(s, b.ID)
}

// execTerminalDrain: a terminal exec that writes 100000 bytes and exits at
// once has all of it delivered (a pty master returns EIO once the last
// slave is closed: a shim must read what is buffered first).
func execTerminalDrain(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	io := x.NewStdio(shimtest.StdioOptions{Terminal: true})
	x.exec(s, b, "burst", io, true, "sh", "-c", `head -c 100000 /dev/zero | tr '\0' x; echo; echo END`)
	if w := x.wait(s, b.ID, "burst"); w.GetExitStatus() != 0 {
		t.Errorf("exit %d", w.GetExitStatus())
	}
	if err := io.WaitEOF(x.within(time.Minute)); err != nil {
		t.Error(err)
	}
	out := io.Out.String()
	if n := strings.Count(out, "x"); n != 100000 || !strings.Contains(out, "END") {
		t.Errorf("terminal delivered %d of 100000 x and END=%v (%d bytes)", n, strings.Contains(out, "END"), len(out))
	}
	x.deleteTask(s, b.ID, "burst")
	x.stop(s, b.ID)
}

// execCloseIOInit: CloseIO without exec id closes the init's stdin.
func execCloseIOInit(t T, x *tx) {
	b := x.bundle("cat")
	s := x.start(b)
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	x.create(s, b, io)
	x.startTask(s, b.ID, "")
	if err := io.Write(x.within(time.Minute), []byte("init-in\n")); err != nil {
		t.Fatal(err)
	}
	x.output(io.Out, "stdout", "init-in\n")
	if err := io.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.CloseIO(x.within(time.Minute), &task.CloseIORequest{Id: b.ID, Stdin: true}); err != nil {
		t.Fatalf("CloseIO of the init: %v", err)
	}
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 0 {
		t.Errorf("cat exit %d after CloseIO", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
}

// execChildHoldsStdout: an exec that exits while a child it left behind
// still holds its stdout open is reported exited (Wait returns its status)
// instead of waiting for an EOF that never comes.
func execChildHoldsStdout(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	io := x.NewStdio(shimtest.StdioOptions{})
	x.exec(s, b, "parent", io, false, "sh", "-c", "sleep 3600 & echo parent-done; exit 9")
	x.output(io.Out, "stdout", "parent-done")
	if w := x.wait(s, b.ID, "parent"); w.GetExitStatus() != 9 {
		t.Errorf("exec exit %d, want 9", w.GetExitStatus())
	}
	waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, func(e *events.TaskExit) bool { return e.GetId() == "parent" })
	x.deleteTask(s, b.ID, "parent")
	x.stop(s, b.ID)
}
