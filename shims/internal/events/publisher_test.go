package events

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/runlet/runlet/proto/events"
	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
)

// recorder is a real ttrpc Events service that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	envs []*ttrpcevents.ForwardRequest
	ns   []string
}

func (r *recorder) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	md, _ := ttrpc.GetMetadata(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.envs = append(r.envs, req)
	r.ns = append(r.ns, md[namespaceHeader]...)
	return &emptypb.Empty{}, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.envs)
}

func serveEvents(t *testing.T, path string) *recorder {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	ttrpcevents.RegisterEventsService(srv, r)
	go srv.Serve(context.Background(), ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

func closeWithin(t *testing.T, p *Publisher) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p.Close(ctx)
}

func TestPublisherDeliversEventsInOrderWithContainerdTypeURLs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	rec := serveEvents(t, path)
	p := New("unix://"+path, "k8s.io")
	ctx := context.Background()
	topics := []string{"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}
	msgs := []proto.Message{
		&events.TaskCreate{ContainerId: "c", Pid: 1},
		&events.TaskStart{ContainerId: "c", Pid: 1},
		&events.TaskExit{ContainerId: "c", Pid: 1, ExitStatus: 3},
		&events.TaskDelete{ContainerId: "c", Pid: 1, ExitStatus: 3},
	}
	for i := range topics {
		if err := p.Publish(ctx, topics[i], msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	closeWithin(t, p)
	if rec.count() != len(topics) {
		t.Fatalf("delivered %d events, want %d", rec.count(), len(topics))
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

func TestPublisherRetriesUntilTheDaemonListens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	p := New(path, "ns")
	if err := p.Publish(context.Background(), "/tasks/exit", &events.TaskExit{ContainerId: "c"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the first attempts fail: nobody listens yet
	rec := serveEvents(t, path)
	closeWithin(t, p)
	if rec.count() != 1 {
		t.Fatalf("delivered %d events after the daemon came up, want 1", rec.count())
	}
}

func TestPublisherWithoutAddressDropsEvents(t *testing.T) {
	p := New("", "ns")
	if err := p.Publish(context.Background(), "/tasks/exit", &events.TaskExit{}); err != nil {
		t.Fatal(err)
	}
	closeWithin(t, p)
}

func TestPublishAfterCloseFailsInsteadOfPanicking(t *testing.T) {
	p := New(filepath.Join(t.TempDir(), "none.sock"), "ns")
	closeWithin(t, p)
	if err := p.Publish(context.Background(), "/tasks/delete", &events.TaskDelete{}); err == nil {
		t.Fatal("publish after close succeeded")
	}
}
