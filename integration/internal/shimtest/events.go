package shimtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	// The events the shims forward decode through runlet's registry.
	_ "github.com/runlet/runlet/proto/events"
	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	"github.com/runlet/runlet/proto/registry"
)

// Event is one Envelope a shim forwarded, with its payload decoded.
type Event struct {
	Namespace string
	Topic     string
	Timestamp time.Time
	TypeURL   string
	// Message is the decoded payload (a *events.TaskExit for /tasks/exit,
	// ...), nil when its type is unknown; DecodeErr says why.
	Message   proto.Message
	DecodeErr error
}

func (e Event) String() string {
	if e.Message == nil {
		return fmt.Sprintf("%s (%s: %v)", e.Topic, e.TypeURL, e.DecodeErr)
	}
	return fmt.Sprintf("%s %v", e.Topic, e.Message)
}

// EventServer serves containerd.services.events.ttrpc.v1.Events on a unix
// socket and records every forwarded Envelope in arrival order.
type EventServer struct {
	Socket string

	server  *ttrpc.Server
	served  chan struct{}
	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced on every new event
}

// StartEventServer listens on socket (which must not exist).
func StartEventServer(socket string) (*EventServer, error) {
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("events socket: %w", err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &EventServer{Socket: socket, server: srv, served: make(chan struct{}), changed: make(chan struct{})}
	ttrpcevents.RegisterEventsService(srv, s)
	go func() {
		defer close(s.served)
		_ = srv.Serve(context.Background(), ln)
	}()
	return s, nil
}

// Close stops serving and removes the socket.
func (s *EventServer) Close(ctx context.Context) error {
	err := s.server.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.server.Close())
	}
	select {
	case <-s.served:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	return err
}

// Forward implements the Events service.
func (s *EventServer) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	env := req.GetEnvelope()
	ev := Event{
		Namespace: env.GetNamespace(),
		Topic:     env.GetTopic(),
		Timestamp: env.GetTimestamp().AsTime(),
		TypeURL:   env.GetEvent().GetTypeUrl(),
	}
	ev.Message, ev.DecodeErr = decodeAny(env.GetEvent())
	s.mu.Lock()
	s.events = append(s.events, ev)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return &emptypb.Empty{}, nil
}

func decodeAny(a *anypb.Any) (proto.Message, error) {
	if a == nil {
		return nil, errors.New("envelope carries no event")
	}
	return anypb.UnmarshalNew(a, proto.UnmarshalOptions{Resolver: registry.Types})
}

// Events returns a copy of everything recorded so far.
func (s *EventServer) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Matching returns the recorded events that pred accepts, in order.
func (s *EventServer) Matching(pred func(Event) bool) []Event {
	var out []Event
	for _, e := range s.Events() {
		if pred(e) {
			out = append(out, e)
		}
	}
	return out
}

// WaitFor blocks until an event pred accepts has been recorded (including
// one recorded before the call) and returns the first such event.
func (s *EventServer) WaitFor(ctx context.Context, what string, pred func(Event) bool) (Event, error) {
	for {
		s.mu.Lock()
		for _, e := range s.events {
			if pred(e) {
				s.mu.Unlock()
				return e, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("waiting for event %s: %w; recorded: %s", what, ctx.Err(), s.summary())
		}
	}
}

func (s *EventServer) summary() string {
	var topics []string
	for _, e := range s.Events() {
		topics = append(topics, e.String())
	}
	if len(topics) == 0 {
		return "none"
	}
	return strings.Join(topics, "; ")
}

// Summary lists every recorded event, for failure messages.
func (s *EventServer) Summary() string { return s.summary() }
