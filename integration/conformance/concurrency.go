package conformance

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	task "github.com/runlet/runlet/proto/task/v2"
)

func init() {
	register("concurrency",
		check{"ConcurrentStartsOfOneGroupShareOneShim", concStarts},
		check{"EightContainersOfOnePodLiveAndDieConcurrently", concPod},
		check{"EveryExecExitIsPublishedExactlyOnce", concExecExits},
	)
}

// concStarts: the `start`s of a pod's containers racing each other all
// print the same address, and one process serves them all.
func concStarts(t *testing.T, x *tx) {
	// Every spec names the sandbox, the sandbox's own too (as the CRI
	// does), so no start has an edge over the others.
	sandboxID := shimtest.NewID("sb")
	group := map[string]string{"io.kubernetes.cri.sandbox-id": sandboxID}
	bundles := []*shimtest.Bundle{x.NewBundle(shimtest.BundleOptions{ID: sandboxID, Args: []string{"sleep", "3600"}, Annotations: group})}
	for i := 0; i < 3; i++ {
		bundles = append(bundles, x.NewBundle(shimtest.BundleOptions{Args: []string{"sleep", "3600"}, Annotations: group}))
	}
	started := make([]*shimtest.Started, len(bundles))
	errs := make([]error, len(bundles))
	var wg sync.WaitGroup
	for i, b := range bundles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started[i], errs[i] = x.Start(x.ctx, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %s: %v", bundles[i].ID, err)
		}
	}
	for i, st := range started[1:] {
		if st.Reply.Address != started[0].Reply.Address {
			t.Errorf("start of %s printed %s, of the sandbox %s", bundles[i+1].ID, st.Reply.Address, started[0].Reply.Address)
		}
	}
	s := started[0].Shim
	for _, b := range bundles {
		x.create(s, b, nil)
		x.startTask(s, b.ID, "")
	}
	for _, b := range bundles {
		resp, err := s.Client.Connect(x.within(time.Minute), &task.ConnectRequest{Id: b.ID})
		if err != nil || int(resp.GetShimPid()) != s.Pid {
			t.Errorf("Connect %s: shim pid %d %v, want %d", b.ID, resp.GetShimPid(), err, s.Pid)
		}
	}
	for _, b := range slices.Backward(bundles) {
		x.stop(s, b.ID)
	}
}

// concPod: eight containers in one shim created, started, waited for and
// deleted all at once; each gets its own output, exit code and events in
// order.
func concPod(t *testing.T, x *tx) {
	const n = 8
	sandbox := x.bundle("sleep", "3600")
	s := x.start(sandbox)
	x.create(s, sandbox, nil)
	x.startTask(s, sandbox.ID, "")
	bundles := make([]*shimtest.Bundle, n)
	ios := make([]*shimtest.Stdio, n)
	for i := range bundles {
		bundles[i] = x.NewBundle(shimtest.BundleOptions{Args: []string{"sh", "-c", fmt.Sprintf("echo app-%d; exit %d", i, i+1)},
			Annotations: map[string]string{"io.kubernetes.cri.sandbox-id": sandbox.ID}})
		st, err := x.Start(x.ctx, shimtest.StartRequest{ID: bundles[i].ID, Bundle: bundles[i].Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
		if err != nil {
			t.Fatal(err)
		}
		if st.Shim != s {
			t.Fatalf("container %d got shim %s, the pod's is %s", i, st.Reply.Address, s.Address)
		}
		ios[i] = x.NewStdio(shimtest.StdioOptions{})
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, b := range bundles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := x.within(2 * time.Minute)
			fail := func(format string, a ...any) { errs <- fmt.Errorf("%s: "+format, append([]any{b.ID}, a...)...) }
			if _, err := s.Client.Create(ctx, x.createReq(b, ios[i], false)); err != nil {
				fail("Create: %v", err)
				return
			}
			if _, err := s.Client.Start(ctx, &task.StartRequest{Id: b.ID}); err != nil {
				fail("Start: %v", err)
				return
			}
			w, err := s.Client.Wait(ctx, &task.WaitRequest{Id: b.ID})
			if err != nil {
				fail("Wait: %v", err)
				return
			}
			if w.GetExitStatus() != uint32(i+1) {
				fail("exit %d, want %d", w.GetExitStatus(), i+1)
			}
			if err := ios[i].WaitEOF(ctx); err != nil {
				fail("%v", err)
			}
			if got := ios[i].Out.String(); got != fmt.Sprintf("app-%d\n", i) {
				fail("stdout %q", got)
			}
			if _, err := s.Client.Delete(ctx, &task.DeleteRequest{Id: b.ID}); err != nil {
				fail("Delete: %v", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, b := range bundles {
		waitEvent[*events.TaskDelete](x, "/tasks/delete", b.ID, nil)
		if got := topics(x.eventsOf(b.ID)); !slices.Equal(got, []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}) {
			t.Errorf("%s: events %v, want create, start, exit, delete", b.ID, got)
		}
	}
	x.stop(s, sandbox.ID)
}

// concExecExits: twelve execs exiting at once each get exactly one
// /tasks/exit with their own exit status.
func concExecExits(t *testing.T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	const n = 12
	for i := 0; i < n; i++ {
		x.exec(s, b, fmt.Sprintf("burst-%d", i), nil, false, "sh", "-c", fmt.Sprintf("while [ ! -e /dev/shm/go ]; do sleep 0.05; done; exit %d", i+1))
	}
	// Release them together.
	x.exec(s, b, "release", nil, false, "touch", "/dev/shm/go")
	x.wait(s, b.ID, "release")
	x.deleteTask(s, b.ID, "release")
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("burst-%d", i)
		if w := x.wait(s, b.ID, id); w.GetExitStatus() != uint32(i+1) {
			t.Errorf("%s exit %d, want %d", id, w.GetExitStatus(), i+1)
		}
		waitEvent[*events.TaskExit](x, "/tasks/exit", b.ID, func(e *events.TaskExit) bool { return e.GetId() == id })
		x.deleteTask(s, b.ID, id)
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("burst-%d", i)
		var exits []string
		for _, e := range x.eventsOf(b.ID) {
			if ex, ok := e.Message.(*events.TaskExit); ok && e.Topic == "/tasks/exit" && ex.GetId() == id {
				exits = append(exits, fmt.Sprint(ex.GetExitStatus()))
			}
		}
		if len(exits) != 1 || exits[0] != fmt.Sprint(i+1) {
			t.Errorf("%s: exit events with status [%s], want exactly one with %d", id, strings.Join(exits, " "), i+1)
		}
	}
	x.stop(s, b.ID)
}
