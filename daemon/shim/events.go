package shim

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/types/known/emptypb"

	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	"github.com/runlet/runlet/proto/types"
)

// EventHandler receives each event a shim forwards. An error is the
// shim's answer (its errdefs class becomes the status code): Unavailable
// asks the shim to keep the event and send it again later.
type EventHandler func(ctx context.Context, env *types.Envelope) error

// EventsServer serves containerd.services.events.ttrpc.v1.Events at a
// unix socket (mode 0600, directory 0700): the TTRPC_ADDRESS of shims.
type EventsServer struct {
	Address string
	server  *ttrpc.Server
}

// ServeEvents listens at path and hands every event to handle.
func ServeEvents(path string, handle EventHandler) (*EventsServer, error) {
	ln, err := ListenUnix(path)
	if err != nil {
		return nil, fmt.Errorf("events socket: %w", err)
	}
	server, err := ttrpc.NewServer()
	if err != nil {
		ln.Close()
		return nil, err
	}
	ttrpcevents.RegisterEventsService(server, forwarder(handle))
	go server.Serve(context.Background(), ln)
	return &EventsServer{Address: path, server: server}, nil
}

// Close stops serving and removes the socket.
func (s *EventsServer) Close(ctx context.Context) error {
	err := s.server.Shutdown(ctx)
	os.Remove(s.Address)
	return err
}

type forwarder EventHandler

func (f forwarder) Forward(ctx context.Context, r *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	if err := f(ctx, r.GetEnvelope()); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	return &emptypb.Empty{}, nil
}
