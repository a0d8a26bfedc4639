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
