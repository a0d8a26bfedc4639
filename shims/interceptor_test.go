package shims

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// serveTestMethods serves a service whose Boom panics and whose Ping
// answers, through the shim's own interceptor, on a real socket.
func serveTestMethods(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(serverInterceptor(&trimmer{})))
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService("test.Methods", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{
		"Boom": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var nilMap map[string]int
			nilMap["write to a nil map"] = 1 // a real runtime panic, as a nil close is
			return &emptypb.Empty{}, nil
		},
		"Ping": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			return &emptypb.Empty{}, nil
		},
	}})
	go srv.Serve(context.Background(), ln)
	t.Cleanup(func() { srv.Close() })
	return path
}

func call(ctx context.Context, t *testing.T, path, method string) error {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	return client.Call(ctx, "test.Methods", method, &emptypb.Empty{}, &emptypb.Empty{})
}

// Without the recovery the panic in Boom ends this test binary.
func TestPanicInAHandlerIsAnInternalErrorAndTheServerKeepsServing(t *testing.T) {
	path := serveTestMethods(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < 2; i++ {
		err := call(ctx, t, path, "Boom")
		if status.Code(err) != codes.Internal {
			t.Fatalf("call %d of a panicking handler: %v, want code Internal", i, err)
		}
	}
	if err := call(ctx, t, path, "Ping"); err != nil {
		t.Fatalf("the server stopped serving after a panic: %v", err)
	}
}

// holdMethods serves Hold and Wait: each says when it runs, then waits for
// release or for its context to end, and reports which came first on its
// own channel.
func holdMethods(t *testing.T, release <-chan struct{}) (path string, entered chan string, ended map[string]chan error) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "h.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(serverInterceptor(&trimmer{})))
	if err != nil {
		t.Fatal(err)
	}
	entered = make(chan string, 2)
	ended = map[string]chan error{"Hold": make(chan error, 1), "Wait": make(chan error, 1)}
	hold := func(name string) ttrpc.Method {
		return func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			entered <- name
			select {
			case <-release:
				ended[name] <- nil
			case <-ctx.Done():
				ended[name] <- ctx.Err()
			}
			return &emptypb.Empty{}, nil
		}
	}
	srv.RegisterService("test.Methods", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{"Hold": hold("Hold"), "Wait": hold("Wait")}})
	go srv.Serve(context.Background(), ln)
	t.Cleanup(func() { srv.Close() })
	return path, entered, ended
}

// A daemon killed in the middle of a call closes its connection: Wait
// ends with it, a state-changing call (here Hold) runs to its end.
func TestACallWhoseCallerGoesAwayRunsToItsEndButWaitFollowsItsCaller(t *testing.T) {
	release := make(chan struct{})
	path, entered, ended := holdMethods(t, release)
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	for _, m := range []string{"Hold", "Wait"} {
		go client.Call(context.Background(), "test.Methods", m, &emptypb.Empty{}, &emptypb.Empty{})
	}
	<-entered
	<-entered
	client.Close()
	// Wait's end shows the server saw the connection close.
	if err := <-ended["Wait"]; err == nil {
		t.Fatal("Wait went on after its caller went away")
	}
	close(release)
	if err := <-ended["Hold"]; err != nil {
		t.Fatalf("a state-changing call was cut short when its caller went away: %v", err)
	}
}
