package events

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	"github.com/runlet/runlet/proto/types"
)

const (
	firstBackoff = 50 * time.Millisecond
	// maxBackoff bounds the pause between attempts: a daemon back on its
	// address gets the kept events within about this long.
	maxBackoff  = time.Second
	dialTimeout = 2 * time.Second
	// callTimeout bounds one Forward: a stalled daemon costs a retry, never
	// a stuck publisher.
	callTimeout = 5 * time.Second
	// namespaceHeader is the ttrpc metadata key containerd reads the
	// namespace of a request from.
	namespaceHeader = "containerd-namespace-ttrpc"
)

// backoff is the pause between attempts: first, doubling up to max.
type backoff struct{ first, max time.Duration }

// deliver forwards env until the daemon takes it or refuses it for good
// (it answered with an error no retry can change: the event is dropped
// and logged, so one bad event never holds up the ones behind it). It
// returns an error only when ctx ends first.
func (f *forwarder) deliver(ctx context.Context, env *types.Envelope) error {
	pause := f.backoff.first
	for attempt := 1; ; attempt++ {
		err := f.forward(ctx, env)
		if refused(err) {
			slog.Error("daemon refused an event: dropping it", "topic", env.GetTopic(), "error", err)
			return nil
		}
		if err == nil {
			if attempt > 1 {
				slog.Info("daemon took an event after retries", "topic", env.GetTopic(), "attempts", attempt)
			}
			return nil
		}
		if attempt == 1 {
			slog.Warn("daemon did not take an event: keeping it and retrying", "topic", env.GetTopic(), "error", err)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			slog.Warn("giving up on an undelivered event at shutdown", "topic", env.GetTopic(), "error", err)
			return ctx.Err()
		}
		pause = min(2*pause, f.backoff.max)
	}
}

// refused reports an error status the daemon's handler answered with
// (containerd's events service refuses a bad topic or namespace with
// InvalidArgument). Transport failures (a closed or refused connection, a
// timeout) are not statuses, or are Unavailable or DeadlineExceeded: those
// are retried.
func refused(err error) bool {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return false
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted:
		return false
	}
	return true
}

func (f *forwarder) forward(ctx context.Context, env *types.Envelope) error {
	client, err := f.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ctx = ttrpc.WithMetadata(ctx, ttrpc.MD{namespaceHeader: []string{f.namespace}})
	_, err = ttrpcevents.NewEventsClient(client).Forward(ctx, &ttrpcevents.ForwardRequest{Envelope: env})
	if err != nil {
		f.reset(client)
		return fmt.Errorf("forward %s: %w", env.GetTopic(), err)
	}
	return nil
}

func (f *forwarder) connect(ctx context.Context) (*ttrpc.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client != nil {
		return f.client, nil
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "unix", f.address)
	if err != nil {
		return nil, fmt.Errorf("dial events service %s: %w", f.address, err)
	}
	f.client = ttrpc.NewClient(conn)
	return f.client, nil
}

// reset drops a connection that failed, so the next attempt dials again
// (a restarted daemon listens on a new socket at the same path).
func (f *forwarder) reset(client *ttrpc.Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client == client {
		f.client.Close()
		f.client = nil
	}
}
