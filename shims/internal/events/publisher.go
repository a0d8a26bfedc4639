// Package events forwards a shim's task events to the daemon's ttrpc
// Events service (containerd.services.events.ttrpc.v1.Events/Forward).
//
// Events leave in the order they were published, from one goroutine, so a
// daemon always sees create before start before exit before delete. A daemon
// that is down or restarting does not block the shim: events wait in a
// bounded queue and each is retried with backoff before it is dropped.
package events

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	"github.com/runlet/runlet/proto/types"
)

const (
	queueSize   = 1024
	maxAttempts = 6
	dialTimeout = 2 * time.Second
	callTimeout = 5 * time.Second
	// namespaceHeader is the ttrpc metadata key containerd reads the
	// namespace of a request from.
	namespaceHeader = "containerd-namespace-ttrpc"
)

// Publisher sends events to one daemon address.
type Publisher struct {
	address   string
	namespace string
	queue     chan *types.Envelope
	done      chan struct{}

	// closing guards sends against the close of queue: Publish holds it
	// shared, Close exclusively.
	closing sync.RWMutex
	closed  bool // guarded by closing

	mu     sync.Mutex
	client *ttrpc.Client // guarded by mu
}

// New returns a publisher for the daemon at address (a unix socket path,
// with or without a unix:// prefix). An empty address drops every event.
func New(address, namespace string) *Publisher {
	p := &Publisher{
		address:   strings.TrimPrefix(address, "unix://"),
		namespace: namespace,
		queue:     make(chan *types.Envelope, queueSize),
		done:      make(chan struct{}),
	}
	go p.run()
	return p
}

// Publish queues event under topic; it blocks only while the queue is full.
func (p *Publisher) Publish(ctx context.Context, topic string, event proto.Message) error {
	if p.address == "" {
		return nil
	}
	env, err := envelope(p.namespace, topic, event)
	if err != nil {
		return err
	}
	p.closing.RLock()
	defer p.closing.RUnlock()
	if p.closed {
		return fmt.Errorf("publish %s: the publisher is closed", topic)
	}
	select {
	case p.queue <- env:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish %s: %w", topic, ctx.Err())
	}
}

// Close sends what is queued (bounded by ctx) and releases the connection.
func (p *Publisher) Close(ctx context.Context) {
	p.closing.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.closing.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	p.mu.Lock()
	if p.client != nil {
		p.client.Close()
		p.client = nil
	}
	p.mu.Unlock()
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

func (p *Publisher) run() {
	defer close(p.done)
	for env := range p.queue {
		p.deliver(env)
	}
}

// deliver retries one event with exponential backoff, then drops it: a
// daemon that stays away longer learns the state from the shim's State RPC.
func (p *Publisher) deliver(env *types.Envelope) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := p.forward(env)
		if err == nil {
			return
		}
		if attempt == maxAttempts {
			slog.Warn("dropping event", "topic", env.Topic, "error", err)
			return
		}
		time.Sleep(backoff)
		backoff *= 2
	}
}

func (p *Publisher) forward(env *types.Envelope) error {
	client, err := p.connect()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	ctx = ttrpc.WithMetadata(ctx, ttrpc.MD{namespaceHeader: []string{p.namespace}})
	_, err = ttrpcevents.NewEventsClient(client).Forward(ctx, &ttrpcevents.ForwardRequest{Envelope: env})
	if err != nil {
		p.reset(client)
		return fmt.Errorf("forward %s: %w", env.Topic, err)
	}
	return nil
}

func (p *Publisher) connect() (*ttrpc.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	conn, err := net.DialTimeout("unix", p.address, dialTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial events service %s: %w", p.address, err)
	}
	p.client = ttrpc.NewClient(conn)
	return p.client, nil
}

func (p *Publisher) reset(client *ttrpc.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == client {
		p.client.Close()
		p.client = nil
	}
}
