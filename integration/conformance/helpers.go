package conformance

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/integration/internal/shimtest"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
)

// tx is one check's world.
type tx struct {
	*shimtest.Env
	t   T
	s   *suite
	ctx context.Context
	// maxVersion is the MAX_SHIM_VERSION start sends (2 unless a check
	// runs over task v3).
	maxVersion int
}

// checkTimeout bounds a whole check; single waits use shorter deadlines
// only to turn a hang into a failure, never to measure speed.
const checkTimeout = 4 * time.Minute

func (s *suite) env(t T) *tx {
	e := shimtest.NewEnv(t, s.target, s.namespace)
	return &tx{Env: e, t: t, s: s, ctx: shimtest.Context(t, checkTimeout), maxVersion: 2}
}

// within returns a context that ends after d (or with the check).
func (x *tx) within(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(x.ctx, d)
	x.t.Cleanup(cancel)
	return ctx
}

// bundle makes a busybox bundle running args.
func (x *tx) bundle(args ...string) *shimtest.Bundle {
	x.t.Helper()
	return x.NewBundle(shimtest.BundleOptions{Args: args})
}

// start launches a shim for b as containerd 1.7-2.2 does (generation 2,
// MAX_SHIM_VERSION=2) with the harness's runtime options.
func (x *tx) start(b *shimtest.Bundle) *shimtest.Shim {
	x.t.Helper()
	st, err := x.Start(x.ctx, shimtest.StartRequest{ID: b.ID, Bundle: b.Path, Gen: shimtest.Gen2, MaxVersion: x.maxVersion, Options: x.Options()})
	if err != nil {
		x.t.Fatalf("start shim for %s: %v", b.ID, err)
	}
	if st.Shim.Version != x.maxVersion {
		x.t.Fatalf("start with MAX_SHIM_VERSION=%d gave task API version %d", x.maxVersion, st.Shim.Version)
	}
	return st.Shim
}

// createReq is the Create request containerd would send for b.
func (x *tx) createReq(b *shimtest.Bundle, io *shimtest.Stdio, terminal bool) *task.CreateTaskRequest {
	x.t.Helper()
	opts, err := shimtest.OptionsAny(x.Options())
	if err != nil {
		x.t.Fatal(err)
	}
	req := &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path, Rootfs: b.Rootfs, Terminal: terminal, Options: opts}
	if io != nil {
		req.Stdin, req.Stdout, req.Stderr = io.Stdin, io.Stdout, io.Stderr
	}
	return req
}

// create creates b's task on shim s.
func (x *tx) create(s *shimtest.Shim, b *shimtest.Bundle, io *shimtest.Stdio) uint32 {
	x.t.Helper()
	resp, err := s.Client.Create(x.within(time.Minute), x.createReq(b, io, false))
	if err != nil {
		x.t.Fatalf("Create %s: %v", b.ID, err)
	}
	if resp.GetPid() == 0 {
		x.t.Fatalf("Create %s returned pid 0", b.ID)
	}
	return resp.GetPid()
}

// run starts a shim for a new bundle running args, creates and starts the
// task with a fresh stdio set; it returns all three and the init pid.
func (x *tx) run(args ...string) (*shimtest.Shim, *shimtest.Bundle, *shimtest.Stdio, uint32) {
	x.t.Helper()
	b := x.bundle(args...)
	s := x.start(b)
	io := x.NewStdio(shimtest.StdioOptions{})
	x.create(s, b, io)
	pid := x.startTask(s, b.ID, "")
	return s, b, io, pid
}

func (x *tx) startTask(s *shimtest.Shim, id, execID string) uint32 {
	x.t.Helper()
	resp, err := s.Client.Start(x.within(time.Minute), &task.StartRequest{Id: id, ExecId: execID})
	if err != nil {
		x.t.Fatalf("Start %s/%s: %v", id, execID, err)
	}
	if resp.GetPid() == 0 {
		x.t.Fatalf("Start %s/%s returned pid 0", id, execID)
	}
	return resp.GetPid()
}

// wait waits for a process to exit (bounded so a hang fails the check).
func (x *tx) wait(s *shimtest.Shim, id, execID string) *task.WaitResponse {
	x.t.Helper()
	resp, err := s.Client.Wait(x.within(2*time.Minute), &task.WaitRequest{Id: id, ExecId: execID})
	if err != nil {
		x.t.Fatalf("Wait %s/%s: %v", id, execID, err)
	}
	return resp
}

func (x *tx) kill(s *shimtest.Shim, id, execID string, sig syscall.Signal, all bool) {
	x.t.Helper()
	if _, err := s.Client.Kill(x.within(time.Minute), &task.KillRequest{Id: id, ExecId: execID, Signal: uint32(sig), All: all}); err != nil {
		x.t.Fatalf("Kill %s/%s %v: %v", id, execID, sig, err)
	}
}

func (x *tx) deleteTask(s *shimtest.Shim, id, execID string) *task.DeleteResponse {
	x.t.Helper()
	resp, err := s.Client.Delete(x.within(time.Minute), &task.DeleteRequest{Id: id, ExecId: execID})
	if err != nil {
		x.t.Fatalf("Delete %s/%s: %v", id, execID, err)
	}
	return resp
}

// stop kills a running task, waits for it and deletes it.
func (x *tx) stop(s *shimtest.Shim, id string) {
	x.t.Helper()
	x.kill(s, id, "", syscall.SIGKILL, false)
	x.wait(s, id, "")
	x.deleteTask(s, id, "")
}

func (x *tx) state(s *shimtest.Shim, id, execID string) *task.StateResponse {
	x.t.Helper()
	resp, err := s.Client.State(x.within(time.Minute), &task.StateRequest{Id: id, ExecId: execID})
	if err != nil {
		x.t.Fatalf("State %s/%s: %v", id, execID, err)
	}
	return resp
}

func (x *tx) wantStatus(s *shimtest.Shim, id, execID string, want tasktypes.Status) *task.StateResponse {
	x.t.Helper()
	st := x.state(s, id, execID)
	if st.GetStatus() != want {
		x.t.Errorf("State %s/%s status = %v, want %v", id, execID, st.GetStatus(), want)
	}
	return st
}

// processSpec is the exec process containerd would send: the bundle's
// process with new args.
func (x *tx) processSpec(b *shimtest.Bundle, terminal bool, args ...string) *anypb.Any {
	x.t.Helper()
	p := *b.Spec.Process
	p.Args = args
	p.Terminal = terminal
	return specAny(x.t, "Process", &p)
}

// specAny encodes a runtime-spec type as containerd's typeurl does: JSON
// under types.containerd.io/opencontainers/runtime-spec/1/<Name>.
func specAny(t T, name string, v any) *anypb.Any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/" + name, Value: b}
}

// exec adds and starts an exec process, returning its pid.
func (x *tx) exec(s *shimtest.Shim, b *shimtest.Bundle, execID string, io *shimtest.Stdio, terminal bool, args ...string) uint32 {
	x.t.Helper()
	req := &task.ExecProcessRequest{Id: b.ID, ExecId: execID, Terminal: terminal, Spec: x.processSpec(b, terminal, args...)}
	if io != nil {
		req.Stdin, req.Stdout, req.Stderr = io.Stdin, io.Stdout, io.Stderr
	}
	if _, err := s.Client.Exec(x.within(time.Minute), req); err != nil {
		x.t.Fatalf("Exec %s/%s: %v", b.ID, execID, err)
	}
	return x.startTask(s, b.ID, execID)
}

// output waits until a stdio buffer contains want.
func (x *tx) output(buf *shimtest.SafeBuffer, what, want string) {
	x.t.Helper()
	err := buf.WaitFor(x.within(time.Minute), func(b []byte) bool { return strings.Contains(string(b), want) })
	if err != nil {
		x.t.Fatalf("%s never contained %q (got %q): %v", what, want, buf.String(), err)
	}
}

// wantCode checks a ttrpc error's status code.
func wantCode(t T, what string, err error, want codes.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
		return
	}
	if got := status.Code(err); got != want {
		t.Errorf("%s: code %v (%v), want %v", what, got, err, want)
	}
}

// wantCodeUnless is wantCode, except that a deviation the config declares
// accepts any error code (the call must still fail).
func (x *tx) wantCodeUnless(dev Deviation, what string, err error, want codes.Code) {
	x.t.Helper()
	if reason, ok := x.s.cfg.Deviations[dev]; ok && err != nil && status.Code(err) != want {
		x.t.Logf("%s: code %v (%v), not %v: accepted deviation %s: %s", what, status.Code(err), err, want, dev, reason)
		return
	}
	wantCode(x.t, what, err, want)
}

// events of one container, in arrival order.
func (x *tx) eventsOf(id string) []shimtest.Event {
	return x.Events.Matching(func(e shimtest.Event) bool { return containerOf(e) == id })
}

func containerOf(e shimtest.Event) string {
	if m, ok := e.Message.(interface{ GetContainerId() string }); ok {
		return m.GetContainerId()
	}
	return ""
}

func topics(evs []shimtest.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Topic)
	}
	return out
}

// waitEvent waits for an event with topic for container id accepted by
// pred (nil: any).
func waitEvent[T proto.Message](x *tx, topic, id string, pred func(T) bool) T {
	x.t.Helper()
	ev, err := x.Events.WaitFor(x.within(2*time.Minute), topic+" for "+id, func(e shimtest.Event) bool {
		m, ok := e.Message.(T)
		return e.Topic == topic && ok && containerOf(e) == id && (pred == nil || pred(m))
	})
	if err != nil {
		x.t.Fatal(err)
	}
	return ev.Message.(T)
}

// indexOf is the position of the first event of topic accepted by pred.
func indexOf(evs []shimtest.Event, topic string, pred func(shimtest.Event) bool) int {
	return slices.IndexFunc(evs, func(e shimtest.Event) bool { return e.Topic == topic && (pred == nil || pred(e)) })
}

// rootfsMounted reports whether something is mounted on bundle/rootfs.
func rootfsMounted(b *shimtest.Bundle) bool {
	return slices.Contains(shimtest.MountsUnder(b.RootfsTarget()), b.RootfsTarget())
}

// memoryResources limits memory (and memory+swap where the host accounts
// swap, so a hog cannot escape into swap).
func memoryResources(limit int64) *specs.LinuxResources {
	m := &specs.LinuxMemory{Limit: &limit}
	if swapAccounted() {
		m.Swap = &limit
	}
	return &specs.LinuxResources{Memory: m}
}

// swapAccounted: a cgroup v1 host whose memory controller accounts swap.
func swapAccounted() bool {
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	return err == nil && !shimtest.CgroupV2()
}

// waitUntil polls cond until it holds or ctx ends.
func waitUntil(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

var statusRunning = tasktypes.Status_RUNNING
