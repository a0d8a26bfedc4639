package oci

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func testProcess() *process {
	return newProcess(&container{id: "c"}, "", stdio{}, nil)
}

// The bug that killed shims: a second Start overwrote the starting channel
// and the first one's end closed nil. Each begin now ends its own.
func TestOverlappingStartsEachEndTheirOwnWithoutPanic(t *testing.T) {
	p := testProcess()
	endFirst := p.beginStart()
	endSecond := p.beginStart()
	endFirst()
	endSecond()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.waitStarted(ctx) // returns at once: no start is in progress
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.starting != nil {
		t.Fatal("a start is still marked in progress after both ended")
	}
}

func TestOpLockWaiterGivesUpWhenItsContextEnds(t *testing.T) {
	p := testProcess()
	if err := p.lockOps(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.ops.unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.lockOps(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("second lock while held: %v, want context.Canceled", err)
	}
}

// A call that waited behind a Delete finds the process gone.
func TestOpLockOfADeletedProcessIsNotFound(t *testing.T) {
	p := testProcess()
	if err := p.lockOps(context.Background()); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- p.lockOps(context.Background()) }()
	p.markDeleted()
	p.ops.unlock()
	if err := <-waited; !errdefs.IsNotFound(err) {
		t.Fatalf("lock after the delete: %v, want NotFound", err)
	}
	// Bounded, so a lock the NotFound left held fails instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.lockOps(ctx); !errdefs.IsNotFound(err) {
		t.Fatalf("lock of the deleted process: %v, want NotFound (not a lock left held)", err)
	}
}

func TestAnExecIntoAnEndedInitIsFailedPrecondition(t *testing.T) {
	c := &container{id: "c1"}
	c.init = newProcess(c, "", stdio{}, nil)
	c.init.setPid(os.Getpid()) // alive
	for _, msg := range []string{
		"exec: cannot exec in a stopped container: exit status 255", // runc
		"exec: the container `c1` is not running: exit status 1",    // crun
	} {
		if err := execError(c, errors.New(msg)); !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want FailedPrecondition keeping the runtime's words", msg, err)
		}
	}
	// runc failing half-way because the init died under it.
	midway := errors.New("exec: exec failed: unable to start container process: error executing setns process: exit status 1")
	if err := execError(c, midway); errdefs.IsFailedPrecondition(err) {
		t.Errorf("%v taken for an ended init while the init runs", err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	c.init.setPid(gone.Process.Pid) // exited and reaped
	if err := execError(c, midway); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("%v: want FailedPrecondition once the init has ended", err)
	}
}
