package events

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/runlet/runlet/proto/events"
	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
)

// fast retries keep the tests short; the policy is the same.
var fast = backoff{first: time.Millisecond, max: 5 * time.Millisecond}

// recorder is a real ttrpc Events service that keeps what it receives.
type recorder struct {
	mu      sync.Mutex
	envs    []*ttrpcevents.ForwardRequest // guarded by mu
	ns      []string                      // guarded by mu
	changed chan struct{}                 // guarded by mu; closed and replaced on each event
}

func (r *recorder) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	md, _ := ttrpc.GetMetadata(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.envs = append(r.envs, req)
	r.ns = append(r.ns, md[namespaceHeader]...)
	close(r.changed)
	r.changed = make(chan struct{})
	return &emptypb.Empty{}, nil
}

func (r *recorder) topics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.envs {
		out = append(out, e.GetEnvelope().GetTopic())
	}
	return out
}

// waitCount waits until n events arrived.
func (r *recorder) waitCount(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for {
		r.mu.Lock()
		got, changed := len(r.envs), r.changed
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("%d events arrived, want %d", got, n)
		}
	}
}

// serve serves svc on path until the returned stop (also run at cleanup).
func serve(t *testing.T, path string, svc ttrpcevents.EventsService) (stop func()) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	ttrpcevents.RegisterEventsService(srv, svc)
	go srv.Serve(context.Background(), ln)
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(stop)
	return stop
}

func serveEvents(t *testing.T, path string) (*recorder, func()) {
	r := &recorder{changed: make(chan struct{})}
	return r, serve(t, path, r)
}

// refuse listens on path and closes every connection at once (a daemon
// that is not serving yet); attempts gets a token per connection.
func refuse(t *testing.T, path string) (attempts <-chan struct{}, stop func()) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 1024)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { ln.Close() }) }
	t.Cleanup(stop)
	return ch, stop
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func publish(t *testing.T, p *Publisher, topic string, msg proto.Message) {
	t.Helper()
	if err := p.Publish(context.Background(), topic, msg); err != nil {
		t.Fatal(err)
	}
}

func TestPublisherDeliversEventsInOrderWithContainerdTypeURLs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	rec, _ := serveEvents(t, path)
	p := New("unix://"+path, "k8s.io")
	topics := []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}
	msgs := []proto.Message{
		&events.TaskCreate{ContainerId: "c", Pid: 1},
		&events.TaskStart{ContainerId: "c", Pid: 1},
		&events.TaskExit{ContainerId: "c", Pid: 1, ExitStatus: 3},
		&events.TaskDelete{ContainerId: "c", Pid: 1, ExitStatus: 3},
	}
	for i := range topics {
		publish(t, p, topics[i], msgs[i])
	}
	p.Close(testContext(t))
	if len(rec.envs) != len(topics) {
		t.Fatalf("delivered %d events, want %d", len(rec.envs), len(topics))
	}
	for i, req := range rec.envs {
		env := req.GetEnvelope()
		want := string(proto.MessageName(msgs[i]))
		if env.GetTopic() != topics[i] || env.GetNamespace() != "k8s.io" || env.GetEvent().GetTypeUrl() != want {
			t.Fatalf("event %d: topic %q ns %q type %q; want %q %q", i, env.GetTopic(), env.GetNamespace(), env.GetEvent().GetTypeUrl(), topics[i], want)
		}
		if rec.ns[i] != "k8s.io" {
			t.Fatalf("event %d: ttrpc namespace header %q", i, rec.ns[i])
		}
	}
}

// The daemon goes away (its socket is removed), refuses connections for
// far more attempts than any fixed retry budget, then a new daemon serves
// the same path: it gets every event published meanwhile, in order.
func TestEventsPublishedWhileTheDaemonIsAwayArriveInOrderWhenANewOneListens(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "events.sock")
	first, stopFirst := serveEvents(t, path)
	p := newPublisher(path, "ns", fast)
	publish(t, p, "/tasks/start", &events.TaskStart{ContainerId: "c"})
	first.waitCount(ctx, t, 1)
	stopFirst()
	publish(t, p, "/tasks/oom", &events.TaskOOM{ContainerId: "c"})
	publish(t, p, "/tasks/exit", &events.TaskExit{ContainerId: "c", ExitStatus: 137})
	publish(t, p, "/tasks/delete", &events.TaskDelete{ContainerId: "c"})
	attempts, stopRefusing := refuse(t, path)
	for i := 0; i < 100; i++ {
		select {
		case <-attempts:
		case <-ctx.Done():
			t.Fatalf("the publisher stopped trying after %d refused attempts", i)
		}
	}
	stopRefusing()
	second, _ := serveEvents(t, path)
	p.Close(ctx)
	want := fmt.Sprint([]string{"/tasks/oom", "/tasks/exit", "/tasks/delete"})
	if got := fmt.Sprint(second.topics()); got != want {
		t.Fatalf("the new daemon got %s, want %s", got, want)
	}
}

// A full queue drops the oldest event that is not an exit or an OOM, and
// delivers the rest in order once a daemon listens.
func TestFullQueueDropsTheOldestEventThatIsNeitherExitNorOOM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	p := newPublisher(path, "ns", fast)
	publish(t, p, "/tasks/exit", &events.TaskExit{ContainerId: "c"})
	for i := 1; i <= queueCap; i++ {
		publish(t, p, "/tasks/start", &events.TaskStart{ContainerId: "c", Pid: uint32(i)})
	}
	if n := p.Pending(); n != queueCap {
		t.Fatalf("%d events pending, want the cap %d", n, queueCap)
	}
	rec, _ := serveEvents(t, path)
	p.Close(testContext(t))
	if len(rec.envs) != queueCap {
		t.Fatalf("delivered %d events, want %d", len(rec.envs), queueCap)
	}
	if topic := rec.envs[0].GetEnvelope().GetTopic(); topic != "/tasks/exit" {
		t.Fatalf("first delivered %s, want the /tasks/exit published first", topic)
	}
	for i, req := range rec.envs[1:] {
		var start events.TaskStart
		if err := proto.Unmarshal(req.GetEnvelope().GetEvent().GetValue(), &start); err != nil {
			t.Fatal(err)
		}
		if want := uint32(i + 2); start.GetPid() != want {
			t.Fatalf("start event %d has pid %d, want %d (only pid 1 is dropped)", i, start.GetPid(), want)
		}
	}
}

func TestQueueFullOfExitsDropsTheOldestExit(t *testing.T) {
	q := newQueue()
	for i := 0; i <= queueCap; i++ {
		env, err := envelope("ns", "/tasks/exit", &events.TaskExit{Pid: uint32(i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.push(env); err != nil {
			t.Fatal(err)
		}
	}
	head, _ := q.head()
	var exit events.TaskExit
	if err := proto.Unmarshal(head.GetEvent().GetValue(), &exit); err != nil {
		t.Fatal(err)
	}
	if q.len() != queueCap || exit.GetPid() != 1 {
		t.Fatalf("%d queued, head pid %d; want %d queued and the oldest (pid 0) dropped", q.len(), exit.GetPid(), queueCap)
	}
}

// stalled is a daemon that accepts Forward and never answers until
// released.
type stalled struct{ release chan struct{} }

func (s stalled) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	<-s.release
	return &emptypb.Empty{}, nil
}

// The shim publishes from its exit handling: a daemon that takes a
// connection and never answers must not block a Publish, even far past
// the queue's cap.
func TestStalledDaemonNeverBlocksPublish(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "events.sock")
	daemon := stalled{release: make(chan struct{})}
	serve(t, path, daemon)
	t.Cleanup(func() { close(daemon.release) })
	p := newPublisher(path, "ns", fast)
	published := make(chan error, 1)
	go func() {
		for i := 0; i < 3*queueCap; i++ {
			if err := p.Publish(ctx, "/tasks/exit", &events.TaskExit{Pid: uint32(i)}); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	select {
	case err := <-published:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("Publish blocked behind a stalled daemon")
	}
	closeCtx, cancel := context.WithCancel(ctx)
	cancel() // give up on the stalled daemon at once
	p.Close(closeCtx)
}

// With no address nothing is queued or dialled, and Close has nothing to
// wait for.
func TestPublisherWithoutAddressQueuesNothingAndClosesAtOnce(t *testing.T) {
	ctx := testContext(t)
	p := New("", "ns")
	for i := 0; i <= queueCap; i++ {
		publish(t, p, "/tasks/exit", &events.TaskExit{})
	}
	if n := p.Pending(); n != 0 {
		t.Fatalf("%d events queued for no daemon", n)
	}
	p.Close(ctx)
	if ctx.Err() != nil {
		t.Fatalf("Close waited for its deadline with nothing to deliver")
	}
}

func TestPublishAfterCloseFailsInsteadOfPanicking(t *testing.T) {
	p := New(filepath.Join(t.TempDir(), "none.sock"), "ns")
	p.Close(testContext(t))
	if err := p.Publish(context.Background(), "/tasks/delete", &events.TaskDelete{}); err == nil {
		t.Fatal("publish after close succeeded")
	}
}

// picky refuses /tasks/bad with InvalidArgument, as containerd's events
// service refuses a bad topic, and records the rest.
type picky struct{ *recorder }

func (p picky) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	if req.GetEnvelope().GetTopic() == "/tasks/bad" {
		return nil, status.Error(codes.InvalidArgument, "bad topic")
	}
	return p.recorder.Forward(ctx, req)
}

// An event the daemon refuses for good is dropped: it must not hold up
// the events behind it, as an event the daemon could not take does.
func TestEventTheDaemonRefusesIsDroppedAndTheNextArrive(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "events.sock")
	rec := &recorder{changed: make(chan struct{})}
	serve(t, path, picky{rec})
	p := newPublisher(path, "ns", fast)
	publish(t, p, "/tasks/bad", &events.TaskExit{})
	publish(t, p, "/tasks/exit", &events.TaskExit{ContainerId: "c"})
	rec.waitCount(ctx, t, 1)
	p.Close(ctx)
	if got := fmt.Sprint(rec.topics()); got != "[/tasks/exit]" {
		t.Fatalf("the daemon got %s, want [/tasks/exit]", got)
	}
}
