package conformance

import (
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/runlet/runlet/integration/internal/shimtest"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

func init() {
	register("robust",
		check{"DeleteOfRunningTaskFailsAndKeepsItRunning", robustDeleteRunning},
		check{"FailedCreateLeavesNoMountNoStateAndIDReusable", robustFailedCreate},
		check{"ExecOfMissingBinaryFailsContainerLives", robustExecMissing},
		check{"InitWithTerminalResizesAndDeletedExecIsGone", robustInitTerminal},
	)
}

// robustDeleteRunning: Delete of a running init is refused; the task keeps
// running and can be stopped normally.
func robustDeleteRunning(t T, x *tx) {
	s, b, _, pid := x.run("sleep", "3600")
	if _, err := s.Client.Delete(x.within(time.Minute), &task.DeleteRequest{Id: b.ID}); err == nil {
		t.Errorf("Delete of a running task succeeded")
	}
	if st := x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING); st.GetPid() != pid {
		t.Errorf("pid %d after the refused Delete, want %d", st.GetPid(), pid)
	}
	x.stop(s, b.ID)
}

// robustFailedCreate: a Create whose rootfs mount cannot be mounted fails,
// leaves nothing mounted and no runtime state, and the id can be created
// again with a good mount.
func robustFailedCreate(t T, x *tx) {
	b := x.bundle("sleep", "3600")
	s := x.start(b)
	req := x.createReq(b, nil, false)
	req.Rootfs = []*types.Mount{{Type: "bind", Source: filepath.Join(x.Dir, "no-such-rootfs"), Options: []string{"rbind", "rw"}}}
	if _, err := s.Client.Create(x.within(time.Minute), req); err == nil {
		t.Fatalf("Create with a rootfs source that does not exist succeeded")
	}
	if mounts := shimtest.MountsUnder(b.Path); len(mounts) > 0 {
		t.Errorf("failed Create left mounts: %v", mounts)
	}
	ids, err := shimtest.RuntimeList(x.within(time.Minute), x.Target.Runtime, filepath.Join(x.RuntimeRoot, x.Namespace))
	if err != nil {
		t.Error(err)
	}
	if slices.Contains(ids, b.ID) {
		t.Errorf("failed Create left runtime state for %s", b.ID)
	}
	x.create(s, b, nil)
	x.startTask(s, b.ID, "")
	x.stop(s, b.ID)
}

// robustExecMissing: an exec of a binary that does not exist fails (at
// Exec or at Start), the container keeps running, and a good exec works
// afterwards.
func robustExecMissing(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	_, err := s.Client.Exec(x.within(time.Minute), &task.ExecProcessRequest{Id: b.ID, ExecId: "missing", Spec: x.processSpec(b, false, "/no/such/binary")})
	if err == nil {
		_, err = s.Client.Start(x.within(time.Minute), &task.StartRequest{Id: b.ID, ExecId: "missing"})
		if err == nil {
			if w := x.wait(s, b.ID, "missing"); w.GetExitStatus() == 0 {
				t.Errorf("exec of a missing binary started and exited 0")
			}
		}
		// Whatever happened, the exec can be deleted.
		if _, derr := s.Client.Delete(x.within(time.Minute), &task.DeleteRequest{Id: b.ID, ExecId: "missing"}); derr != nil && !shimtest.IsNotFound(derr) {
			t.Errorf("Delete of the failed exec: %v", derr)
		}
	}
	t.Logf("exec of a missing binary: %v", err)
	x.wantStatus(s, b.ID, "", tasktypes.Status_RUNNING)
	io := x.NewStdio(shimtest.StdioOptions{})
	x.exec(s, b, "good", io, false, "echo", "still-fine")
	if w := x.wait(s, b.ID, "good"); w.GetExitStatus() != 0 {
		t.Errorf("good exec exit %d", w.GetExitStatus())
	}
	x.output(io.Out, "stdout", "still-fine")
	x.deleteTask(s, b.ID, "good")
	x.stop(s, b.ID)
}

// robustInitTerminal: an init created with a terminal gets one (ResizePty
// without exec id resizes it); a deleted exec is NotFound afterwards.
func robustInitTerminal(t T, x *tx) {
	b := x.NewBundle(shimtest.BundleOptions{Args: []string{"sh", "-c", "echo ready; read x; stty size; read y"}, Terminal: true})
	s := x.start(b)
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true, Terminal: true})
	req := x.createReq(b, io, true)
	if _, err := s.Client.Create(x.within(time.Minute), req); err != nil {
		t.Fatalf("Create with terminal: %v", err)
	}
	x.startTask(s, b.ID, "")
	x.output(io.Out, "terminal", "ready")
	if _, err := s.Client.ResizePty(x.within(time.Minute), &task.ResizePtyRequest{Id: b.ID, Width: 91, Height: 37}); err != nil {
		t.Fatalf("ResizePty of the init: %v", err)
	}
	if err := io.Write(x.within(time.Minute), []byte("go\n")); err != nil {
		t.Fatal(err)
	}
	x.output(io.Out, "terminal", "37 91")
	x.exec(s, b, "brief", nil, false, "true")
	x.wait(s, b.ID, "brief")
	x.deleteTask(s, b.ID, "brief")
	_, err := s.Client.State(x.within(time.Minute), &task.StateRequest{Id: b.ID, ExecId: "brief"})
	wantCode(t, "State of a deleted exec", err, codes.NotFound)
	if err := io.Write(x.within(time.Minute), []byte("end\n")); err != nil {
		t.Fatal(err)
	}
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 0 {
		t.Errorf("terminal init exit %d", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
}
