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
	events  []Event       // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced on every new event
	stall   chan struct{} // guarded by mu; while non-nil, Forward waits for it to close
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

// Stall makes Forward take calls and answer none (a daemon stuck in its
// event handling) until Unstall; then they are recorded in order.
func (s *EventServer) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall == nil {
		s.stall = make(chan struct{})
	}
}

// Unstall lets the stalled Forward calls through.
func (s *EventServer) Unstall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall != nil {
		close(s.stall)
		s.stall = nil
	}
}

func (s *EventServer) waitUnstalled(ctx context.Context) error {
	s.mu.Lock()
	stall := s.stall
	s.mu.Unlock()
	if stall == nil {
		return nil
	}
	select {
	case <-stall:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Forward implements the Events service.
func (s *EventServer) Forward(ctx context.Context, req *ttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	if err := s.waitUnstalled(ctx); err != nil {
		return nil, err
	}
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

// Refuser listens on an events socket and closes every connection at once:
// a daemon whose socket is there but that does not serve yet. It counts
// the connections, so a test sees a shim keep trying.
type Refuser struct {
	ln       net.Listener
	attempts chan struct{}
}

// Refuse listens on socket (which must not exist).
func Refuse(socket string) (*Refuser, error) {
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("events socket: %w", err)
	}
	r := &Refuser{ln: ln, attempts: make(chan struct{}, 1024)}
	go r.refuse()
	return r, nil
}

func (r *Refuser) refuse() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		c.Close()
		select {
		case r.attempts <- struct{}{}:
		default:
		}
	}
}

// WaitAttempts waits until n connections were refused; it returns how
// many were when ctx ended first.
func (r *Refuser) WaitAttempts(ctx context.Context, n int) (int, error) {
	for i := 0; i < n; i++ {
		select {
		case <-r.attempts:
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	return n, nil
}

// Close stops listening and removes the socket.
func (r *Refuser) Close() error { return r.ln.Close() }
