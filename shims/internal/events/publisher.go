// Package events forwards a shim's task events to the daemon's ttrpc
// Events service (containerd.services.events.ttrpc.v1.Events/Forward).
//
// Events leave in the order they were published, from one goroutine, so a
// daemon always sees create before start before exit before delete.
// Publish never blocks: events wait in a bounded queue (see queueCap for
// the cap and what a full queue drops). An event the daemon did not take
// stays at the head of the queue and is retried, with backoff up to
// maxBackoff, until the daemon listens again on the same address (a
// restarted daemon), so nothing is lost while it is down. An event the
// daemon answers with an error of its own (not a transport failure) is
// dropped and logged: retrying cannot change the answer. Delivery is at
// least once: an event whose reply was lost (a daemon stalled past
// callTimeout) is sent again.
package events

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runlet/runlet/proto/types"
)

// Publisher sends events to one daemon address.
type Publisher struct {
	address   string
	namespace string
	queue     *queue
	// stop ends delivery: Close cancels it when its own deadline passes.
	stop     context.Context
	stopNow  context.CancelFunc
	done     chan struct{} // closed when the delivery goroutine returns
	delivery *forwarder
}

// New returns a publisher for the daemon at address (a unix socket path,
// with or without a unix:// prefix). An empty address drops every event:
// nothing is queued or dialled.
func New(address, namespace string) *Publisher {
	return newPublisher(address, namespace, backoff{first: firstBackoff, max: maxBackoff})
}

func newPublisher(address, namespace string, b backoff) *Publisher {
	stop, stopNow := context.WithCancel(context.Background())
	p := &Publisher{
		address:   strings.TrimPrefix(address, "unix://"),
		namespace: namespace,
		queue:     newQueue(),
		stop:      stop,
		stopNow:   stopNow,
		done:      make(chan struct{}),
	}
	p.delivery = &forwarder{address: p.address, namespace: namespace, backoff: b}
	go p.run()
	return p
}

// Publish queues event under topic. It never blocks (ctx is unused and
// kept for the Publisher interface); it fails only after Close.
func (p *Publisher) Publish(ctx context.Context, topic string, event proto.Message) error {
	if p.address == "" {
		return nil
	}
	env, err := envelope(p.namespace, topic, event)
	if err != nil {
		return err
	}
	return p.queue.push(env)
}

// Pending is the number of events not yet delivered.
func (p *Publisher) Pending() int { return p.queue.len() }

// Close refuses new events, delivers what is queued until ctx ends, then
// gives up on the rest and releases the connection.
func (p *Publisher) Close(ctx context.Context) {
	p.queue.close()
	select {
	case <-p.done:
	case <-ctx.Done():
		p.stopNow()
		<-p.done
	}
	p.stopNow()
	p.delivery.close()
}

// envelope wraps event the way containerd does: the Any carries the bare
// message name as its type URL (containerd's typeurl convention).
func envelope(namespace, topic string, event proto.Message) (*types.Envelope, error) {
	b, err := proto.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("marshal %s event: %w", topic, err)
	}
	return &types.Envelope{
		Timestamp: timestamppb.Now(),
		Namespace: namespace,
		Topic:     topic,
		Event:     &anypb.Any{TypeUrl: string(proto.MessageName(event)), Value: b},
	}, nil
}

// run delivers the head of the queue until the queue is closed and empty,
// or stop ends.
func (p *Publisher) run() {
	defer close(p.done)
	for {
		env, done := p.queue.head()
		switch {
		case done:
			return
		case env == nil:
			select {
			case <-p.queue.ready:
			case <-p.stop.Done():
				return
			}
		default:
			if err := p.delivery.deliver(p.stop, env); err != nil {
				return // stopped
			}
			p.queue.remove(env)
		}
	}
}

// forwarder owns the connection to the daemon's events service.
type forwarder struct {
	address   string
	namespace string
	backoff   backoff

	mu     sync.Mutex
	client *ttrpc.Client // guarded by mu
}

func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client != nil {
		f.client.Close()
		f.client = nil
	}
}
