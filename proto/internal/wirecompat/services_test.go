package wirecompat

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	cdtaskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	cdtaskv3 "github.com/containerd/containerd/api/runtime/task/v3"
	cdttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	rttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	rtaskv2 "github.com/runlet/runlet/proto/task/v2"
	rtaskv3 "github.com/runlet/runlet/proto/task/v3"
)

// side is one implementation of a ttrpc service: its generated registration
// and client, and the Go interface both speak.
type side struct {
	descriptor protoreflect.ServiceDescriptor
	iface      reflect.Type
	register   func(*ttrpc.Server) // with a nil implementation: the interceptor answers
	client     func(*ttrpc.Client) any
}

type serviceCase struct {
	name         string // the ttrpc service name on the wire
	ours, theirs side
}

var serviceCases = []serviceCase{{
	name: "containerd.task.v2.Task",
	ours: side{
		rtaskv2.File_task_v2_shim_proto.Services().ByName("Task"),
		reflect.TypeFor[rtaskv2.TaskService](),
		func(s *ttrpc.Server) { rtaskv2.RegisterTaskService(s, nil) },
		func(c *ttrpc.Client) any { return rtaskv2.NewTaskClient(c) },
	},
	theirs: side{
		cdtaskv2.File_runtime_task_v2_shim_proto.Services().ByName("Task"),
		reflect.TypeFor[cdtaskv2.TTRPCTaskService](),
		func(s *ttrpc.Server) { cdtaskv2.RegisterTTRPCTaskService(s, nil) },
		func(c *ttrpc.Client) any { return cdtaskv2.NewTTRPCTaskClient(c) },
	},
}, {
	name: "containerd.task.v3.Task",
	ours: side{
		rtaskv3.File_task_v3_shim_proto.Services().ByName("Task"),
		reflect.TypeFor[rtaskv3.TaskService](),
		func(s *ttrpc.Server) { rtaskv3.RegisterTaskService(s, nil) },
		func(c *ttrpc.Client) any { return rtaskv3.NewTaskClient(c) },
	},
	theirs: side{
		cdtaskv3.File_runtime_task_v3_shim_proto.Services().ByName("Task"),
		reflect.TypeFor[cdtaskv3.TTRPCTaskService](),
		func(s *ttrpc.Server) { cdtaskv3.RegisterTTRPCTaskService(s, nil) },
		func(c *ttrpc.Client) any { return cdtaskv3.NewTTRPCTaskClient(c) },
	},
}, {
	name: "containerd.services.events.ttrpc.v1.Events",
	ours: side{
		rttrpcevents.File_events_ttrpc_v1_events_proto.Services().ByName("Events"),
		reflect.TypeFor[rttrpcevents.EventsService](),
		func(s *ttrpc.Server) { rttrpcevents.RegisterEventsService(s, nil) },
		func(c *ttrpc.Client) any { return rttrpcevents.NewEventsClient(c) },
	},
	theirs: side{
		cdttrpcevents.File_services_ttrpc_events_v1_events_proto.Services().ByName("Events"),
		reflect.TypeFor[cdttrpcevents.TTRPCEventsService](),
		func(s *ttrpc.Server) { cdttrpcevents.RegisterTTRPCEventsService(s, nil) },
		func(c *ttrpc.Client) any { return cdttrpcevents.NewTTRPCEventsClient(c) },
	},
}}

func TestEveryServiceIsCheckedAgainstContainerd(t *testing.T) {
	checked := map[protoreflect.FullName]bool{}
	for _, c := range serviceCases {
		checked[c.ours.descriptor.FullName()] = true
	}
	for _, file := range ourFiles {
		for i := 0; i < file.Services().Len(); i++ {
			if name := file.Services().Get(i).FullName(); !checked[name] {
				t.Errorf("service %s (%s) has no entry in serviceCases", name, file.Path())
			}
		}
	}
}

func TestServicesHaveContainerdNamesAndMethods(t *testing.T) {
	for _, c := range serviceCases {
		ours, theirs := c.ours.descriptor, c.theirs.descriptor
		if string(ours.FullName()) != c.name || string(theirs.FullName()) != c.name {
			t.Errorf("service names: ours %s, containerd %s, want %s", ours.FullName(), theirs.FullName(), c.name)
		}
		if ours.Methods().Len() != theirs.Methods().Len() {
			t.Errorf("%s: %d methods, containerd has %d", c.name, ours.Methods().Len(), theirs.Methods().Len())
		}
		for i := 0; i < ours.Methods().Len(); i++ {
			m := ours.Methods().Get(i)
			cm := theirs.Methods().ByName(m.Name())
			if cm == nil {
				t.Errorf("%s: containerd has no method %s", c.name, m.Name())
				continue
			}
			if sameName(m.Input().FullName()) != sameName(cm.Input().FullName()) ||
				sameName(m.Output().FullName()) != sameName(cm.Output().FullName()) {
				t.Errorf("%s: ours (%s) %s, containerd (%s) %s", m.FullName(),
					m.Input().FullName(), m.Output().FullName(), cm.Input().FullName(), cm.Output().FullName())
			}
			if m.IsStreamingClient() || m.IsStreamingServer() || cm.IsStreamingClient() || cm.IsStreamingServer() {
				t.Errorf("%s: streaming methods are not expected", m.FullName())
			}
		}
	}
}

// TestEveryRPCCrossesBetweenOursAndContainerds calls every method of each
// service over a real ttrpc connection, with a containerd client against our
// generated server and our client against containerd's, with every field of
// every request and reply set.
func TestEveryRPCCrossesBetweenOursAndContainerds(t *testing.T) {
	for _, c := range serviceCases {
		t.Run(c.name+"/containerd-client-to-runlet-server", func(t *testing.T) {
			exerciseEveryMethod(t, c.name, c.ours, c.theirs)
		})
		t.Run(c.name+"/runlet-client-to-containerd-server", func(t *testing.T) {
			exerciseEveryMethod(t, c.name, c.theirs, c.ours)
		})
	}
}

func exerciseEveryMethod(t *testing.T, service string, server, client side) {
	calls := &callLog{}
	conn := serve(t, server, calls)
	stub := reflect.ValueOf(client.client(conn))
	if n, want := client.iface.NumMethod(), client.descriptor.Methods().Len(); n != want {
		t.Fatalf("client has %d methods, service declares %d", n, want)
	}
	for i := 0; i < client.iface.NumMethod(); i++ {
		method := client.iface.Method(i)
		req := filled(reflect.New(method.Type.In(1).Elem()).Interface().(proto.Message))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		results := stub.MethodByName(method.Name).Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)})
		cancel()
		if err, _ := results[1].Interface().(error); err != nil {
			t.Errorf("%s: %v", method.Name, err)
			continue
		}
		reply := results[0].Interface().(proto.Message)
		if want := filled(newOf(reply)); !proto.Equal(reply, want) {
			t.Errorf("%s: reply %T lost content", method.Name, reply)
		}
		got := calls.last()
		if want := "/" + service + "/" + method.Name; got.fullMethod != want {
			t.Errorf("%s reached %q, want %q", method.Name, got.fullMethod, want)
		}
		if got.request == nil || !proto.Equal(got.request, filled(newOf(got.request))) {
			t.Errorf("%s: the server decoded %v", method.Name, got.request)
		}
	}
}

type call struct {
	fullMethod string
	request    proto.Message // as the server's generated handler decoded it
}

type callLog struct {
	mu    sync.Mutex
	calls []call
}

func (l *callLog) add(c call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

func (l *callLog) last() call {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.calls) == 0 {
		return call{}
	}
	return l.calls[len(l.calls)-1]
}

// errDecoded stops a generated handler after it decoded the request, before
// it calls the (nil) implementation.
var errDecoded = errors.New("request decoded")

// serve starts a ttrpc server with side's generated registration on a unix
// socket and returns a client connected to it. Each call is answered by an
// interceptor that logs the decoded request and replies with a filled message
// of the method's reply type.
func serve(t *testing.T, s side, calls *callLog) *ttrpc.Client {
	t.Helper()
	replyTypes := map[string]reflect.Type{}
	for i := 0; i < s.iface.NumMethod(); i++ {
		m := s.iface.Method(i)
		replyTypes["/"+string(s.descriptor.FullName())+"/"+m.Name] = m.Type.Out(0).Elem()
	}
	answer := func(ctx context.Context, unmarshal ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, handler ttrpc.Method) (any, error) {
		var request proto.Message
		_, err := handler(ctx, func(v any) error {
			if err := unmarshal(v); err != nil {
				return err
			}
			request = v.(proto.Message)
			return errDecoded
		})
		if request == nil {
			return nil, err
		}
		calls.add(call{info.FullMethod, request})
		return filled(reflect.New(replyTypes[info.FullMethod]).Interface().(proto.Message)), nil
	}
	server, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(answer))
	if err != nil {
		t.Fatal(err)
	}
	s.register(server)
	dir, err := os.MkdirTemp("", "wirecompat") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "ttrpc.sock")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(context.Background(), listener)
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	t.Cleanup(func() {
		client.Close()
		server.Close()
		os.RemoveAll(dir)
	})
	return client
}
