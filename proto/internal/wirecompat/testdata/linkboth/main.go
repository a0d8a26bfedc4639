// Command linkboth is what a runtime author's shim may be: it links runlet's
// shim library and proto packages together with containerd's API module
// (gRPC services included), then uses both across ttrpc and Any. It prints
// "ok" and exits 0 when everything worked; protobuf-go would panic at init
// if the two registered the same names in the same registry.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	cdevents "github.com/containerd/containerd/api/events"
	_ "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	cdtaskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	cdtaskv3 "github.com/containerd/containerd/api/runtime/task/v3"
	_ "github.com/containerd/containerd/api/services/tasks/v1"
	_ "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	_ "github.com/containerd/containerd/api/types"
	_ "github.com/containerd/containerd/api/types/runc/options"
	_ "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	_ "github.com/runlet/runlet/proto/bootstrap/v1"
	revents "github.com/runlet/runlet/proto/events"
	_ "github.com/runlet/runlet/proto/events/ttrpc/v1"
	"github.com/runlet/runlet/proto/registry"
	_ "github.com/runlet/runlet/proto/runc/options"
	rtaskv2 "github.com/runlet/runlet/proto/task/v2"
	rtaskv3 "github.com/runlet/runlet/proto/task/v3"
	_ "github.com/runlet/runlet/proto/types"
	_ "github.com/runlet/runlet/shims"
)

func main() {
	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"a runlet event decodes as containerd's", eventCrosses},
		{"containerd's v3 client calls a runlet v3 server", containerdClientToRunletServer},
		{"a runlet v2 client calls containerd's v2 server", runletClientToContainerdServer},
	} {
		if err := step.run(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", step.name, err)
			os.Exit(1)
		}
	}
	fmt.Println("ok")
}

// eventCrosses packs a runlet TaskExit as runlet's publisher does and decodes
// it with containerd's typeurl (global registry: containerd's type) and with
// runlet's registry (runlet's type).
func eventCrosses() error {
	b, err := proto.Marshal(&revents.TaskExit{ContainerId: "c1", Id: "c1", Pid: 42, ExitStatus: 3})
	if err != nil {
		return err
	}
	event := &anypb.Any{TypeUrl: "containerd.events.TaskExit", Value: b}
	theirs, err := typeurl.UnmarshalAny(event)
	if err != nil {
		return err
	}
	if exit, ok := theirs.(*cdevents.TaskExit); !ok || exit.ContainerID != "c1" || exit.Pid != 42 || exit.ExitStatus != 3 {
		return fmt.Errorf("containerd decoded %#v", theirs)
	}
	ours, err := anypb.UnmarshalNew(event, proto.UnmarshalOptions{Resolver: registry.Types})
	if err != nil {
		return err
	}
	if exit, ok := ours.(*revents.TaskExit); !ok || exit.ContainerId != "c1" || exit.ExitStatus != 3 {
		return fmt.Errorf("runlet decoded %#v", ours)
	}
	return nil
}

// runletTask answers Connect only (the embedded nil interface covers the rest).
type runletTask struct{ rtaskv3.TaskService }

func (runletTask) Connect(ctx context.Context, r *rtaskv2.ConnectRequest) (*rtaskv2.ConnectResponse, error) {
	return &rtaskv2.ConnectResponse{ShimPid: 7, TaskPid: 8, Version: "runlet/" + r.GetId()}, nil
}

type containerdTask struct{ cdtaskv2.TTRPCTaskService }

func (containerdTask) Connect(ctx context.Context, r *cdtaskv2.ConnectRequest) (*cdtaskv2.ConnectResponse, error) {
	return &cdtaskv2.ConnectResponse{ShimPid: 7, TaskPid: 8, Version: "containerd/" + r.GetID()}, nil
}

func containerdClientToRunletServer() error {
	client, err := serve(func(s *ttrpc.Server) { rtaskv3.RegisterTaskService(s, runletTask{}) })
	if err != nil {
		return err
	}
	defer client.Close()
	resp, err := cdtaskv3.NewTTRPCTaskClient(client).Connect(context.Background(), &cdtaskv3.ConnectRequest{ID: "t1"})
	if err != nil || resp.GetVersion() != "runlet/t1" || resp.GetTaskPid() != 8 {
		return fmt.Errorf("Connect = %v, %v", resp, err)
	}
	return nil
}

func runletClientToContainerdServer() error {
	client, err := serve(func(s *ttrpc.Server) { cdtaskv2.RegisterTTRPCTaskService(s, containerdTask{}) })
	if err != nil {
		return err
	}
	defer client.Close()
	resp, err := rtaskv2.NewTaskClient(client).Connect(context.Background(), &rtaskv2.ConnectRequest{Id: "t2"})
	if err != nil || resp.GetVersion() != "containerd/t2" || resp.GetShimPid() != 7 {
		return fmt.Errorf("Connect = %v, %v", resp, err)
	}
	return nil
}

// serve starts a ttrpc server on a fresh unix socket and returns a client of it.
func serve(register func(*ttrpc.Server)) (*ttrpc.Client, error) {
	dir, err := os.MkdirTemp("", "linkboth")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		return nil, err
	}
	server, err := ttrpc.NewServer()
	if err != nil {
		return nil, err
	}
	register(server)
	go server.Serve(context.Background(), l)
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		return nil, err
	}
	return ttrpc.NewClient(conn, ttrpc.WithOnClose(func() { server.Close(); os.RemoveAll(dir) })), nil
}
