package container

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// execEndTimeout bounds the start of an exec, and the kill, wait and
// delete of one whose caller has gone (cancelled, timed out): a hung shim
// cannot hold the call.
const execEndTimeout = 10 * time.Second

// startExec starts an added exec. The caller's cancellation does not reach
// the shim: a runtime cut short mid-start leaves a process running that
// the shim never learnt the pid of, which no Kill reaches (the shim calls
// it not started). The caller's error is returned once the start is done,
// and endExec then kills the process.
func startExec(ctx context.Context, t task.TaskService, id, execID string) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), execEndTimeout)
	defer cancel()
	if _, err := t.Start(sctx, &task.StartRequest{Id: id, ExecId: execID}); err != nil {
		if !containerRuns(sctx, t, id) {
			// The exec lost a race with the container's end (a StopContainer):
			// the runtime's words vary, the cause is the state.
			return fmt.Errorf("start exec in %q: the container is not running: %v: %w", id, err, errdefs.ErrFailedPrecondition)
		}
		return fmt.Errorf("start exec in %q: %w", id, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("exec in %q: %w", id, err)
	}
	return nil
}

// execState is how far an exec got, to know what ending it takes.
type execState int

const (
	execAdded   execState = iota // in the shim, never started
	execStarted                  // may be running
	execExited                   // its exit was reported
	execDeleted                  // gone from the shim
)

// endExec removes an exec from its shim so that no record is left there:
// a started exec whose exit was not seen is killed and waited for first.
// It runs on its own bounded context, so a caller that cancelled still
// gets its process killed and the record deleted.
func endExec(ctx context.Context, t task.TaskService, id, execID string, st execState) error {
	if st == execDeleted {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), execEndTimeout)
	defer cancel()
	if st == execStarted {
		// An exec that exited meanwhile refuses the kill; Wait tells.
		_, kerr := t.Kill(ctx, &task.KillRequest{Id: id, ExecId: execID, Signal: uint32(unix.SIGKILL)})
		if _, err := t.Wait(ctx, &task.WaitRequest{Id: id, ExecId: execID}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("wait for killed exec %s in %q (kill: %v): %w", execID, id, kerr, err)
		}
	}
	_, err := t.Delete(ctx, &task.DeleteRequest{Id: id, ExecId: execID})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete exec %s in %q: %w", execID, id, err)
	}
	return nil
}

// execAddError classifies a failed Exec: a task the shim no longer has
// or no longer runs (the container ended after ExecSync saw it running,
// and its exit deleted the task) is FailedPrecondition, as the container
// record still exists; anything else is passed on.
func execAddError(ctx context.Context, t task.TaskService, id string, err error) error {
	if errdefs.IsNotFound(err) || errdefs.IsFailedPrecondition(err) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), execEndTimeout)
		defer cancel()
		if !containerRuns(sctx, t, id) {
			// %v: the shim's NotFound must not outrank the class.
			return fmt.Errorf("exec in %q: the container is not running: %v: %w", id, err, errdefs.ErrFailedPrecondition)
		}
	}
	return fmt.Errorf("exec in %q: %w", id, err)
}

// containerRuns reports whether the container's init still runs.
func containerRuns(ctx context.Context, t task.TaskService, id string) bool {
	st, err := t.State(ctx, &task.StateRequest{Id: id})
	return err == nil && st.GetStatus() == tasktypes.Status_RUNNING
}
