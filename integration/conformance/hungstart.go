package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/integration/internal/shimtest"
	task "github.com/runlet/runlet/proto/task/v2"
)

func init() {
	register("hungstart",
		check{"KillReachesATaskWhoseStartHangs", hungStartKill},
	)
}

// startGate is a runtime wrapper whose `start` tells the test it runs
// (it opens the entered FIFO) and then waits until the test writes to the
// gate FIFO before it runs the real runtime's start: a Start that hangs,
// as one held up by a stuck runtime or hook does.
type startGate struct {
	wrapper, entered, gate string
}

func newStartGate(t T, dir, runtime string) *startGate {
	t.Helper()
	g := &startGate{
		wrapper: filepath.Join(dir, "gated-runtime"),
		entered: filepath.Join(dir, "start-entered"),
		gate:    filepath.Join(dir, "start-gate"),
	}
	for _, p := range []string{g.entered, g.gate} {
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf("#!/bin/sh\nfor a; do if [ \"$a\" = start ]; then echo > %s; read x < %s; fi; done\nexec %s \"$@\"\n",
		g.entered, g.gate, runtime)
	if err := os.WriteFile(g.wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return g
}

// waitEntered returns once the runtime's start runs, or with the error of
// a Start that ended first.
func (g *startGate) waitEntered(ctx context.Context, started <-chan error) error {
	entered := make(chan error, 1)
	go func() {
		// Blocks until the wrapper opens it; read to EOF, so the wrapper's
		// echo never writes to a FIFO nobody reads (SIGPIPE).
		_, err := os.ReadFile(g.entered)
		entered <- err
	}()
	select {
	case err := <-entered:
		return err
	case err := <-started:
		return fmt.Errorf("Start returned (%v) before the runtime's start ran", err)
	case <-ctx.Done():
		return fmt.Errorf("the runtime's start never ran: %w", ctx.Err())
	}
}

// release lets the start go on; with no start waiting it does nothing.
func (g *startGate) release() {
	f, err := os.OpenFile(g.gate, os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return // ENXIO: no start is waiting
	}
	f.Write([]byte("go\n"))
	f.Close()
}

// hungStartKill: while Start hangs in the runtime (the init process
// exists, `runtime start` has not returned), SIGKILL reaches the process:
// Kill returns and the process is gone. Once the runtime goes on, Start
// answers and Wait reports 137.
func hungStartKill(t T, x *tx) {
	gate := newStartGate(t, x.Dir, x.Target.Runtime)
	opts := x.Options()
	opts.BinaryName = gate.wrapper
	b := x.bundle("sleep", "3600")
	st, err := x.Start(x.ctx, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: x.maxVersion, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Shim
	req := x.createReq(b, nil, false)
	if req.Options, err = shimtest.OptionsAny(opts); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Create(x.within(time.Minute), req)
	if err != nil {
		t.Fatalf("Create through the gated runtime: %v", err)
	}
	pid := resp.GetPid()
	t.Cleanup(gate.release) // before the harness deletes the task
	started := make(chan error, 1)
	go func() {
		_, err := s.Client.Start(x.within(2*time.Minute), &task.StartRequest{Id: b.ID})
		started <- err
	}()
	if err := gate.waitEntered(x.within(time.Minute), started); err != nil {
		t.Fatal(err)
	}
	// A bound only to turn a Kill stuck behind the Start into a failure.
	_, err = s.Client.Kill(x.within(15*time.Second), &task.KillRequest{Id: b.ID, Signal: uint32(syscall.SIGKILL)})
	reached := err == nil
	switch {
	case reached:
		if err := waitUntil(x.within(time.Minute), func() bool { return !processExists(int(pid)) }); err != nil {
			t.Errorf("process %d still exists after Kill answered: %v", pid, err)
		}
	case x.s.cfg.Deviations[KillWaitsForStart] != "":
		t.Logf("Kill while Start hangs: %v: accepted deviation %s: %s", err, KillWaitsForStart, x.s.cfg.Deviations[KillWaitsForStart])
	default:
		t.Errorf("Kill while Start hangs: %v, want it to reach the process", err)
	}
	gate.release()
	t.Logf("Start once the runtime went on: %v", <-started)
	if !reached {
		x.kill(s, b.ID, "", syscall.SIGKILL, false)
	}
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 137 {
		t.Errorf("exit %d, want 137", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")
}

// processExists: pid names a process that has not been reaped.
func processExists(pid int) bool {
	return unix.Kill(pid, 0) == nil
}
