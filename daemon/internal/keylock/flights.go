package keylock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
)

// Flights runs one call per key at a time and gives its result to every
// caller that asked meanwhile: kubelet's retry of a call still in progress
// gets the first call's answer, and concurrent pulls of one image make one
// download. Unlike a plain singleflight, the call runs on its own context,
// cancelled only when every waiting caller has given up: one impatient
// client does not fail the others' call.
type Flights[T any] struct {
	mu      sync.Mutex
	flights map[string]*flight[T] // guarded by mu
}

type flight[T any] struct {
	done    chan struct{}
	val     T
	err     error
	waiters int  // guarded by the group's mu
	dropped bool // guarded by the group's mu: every waiter gave up, the call is cancelled
	cancel  context.CancelFunc
}

// Do returns fn's result for key, starting fn unless a call for key is
// running. A call every caller gave up on is not joined: a new caller
// waits for it to end (it is undoing itself), then starts its own.
func (g *Flights[T]) Do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	for {
		f, ok := g.join(ctx, key, fn)
		if !ok {
			select {
			case <-f.done:
				continue
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
		}
		return g.wait(ctx, f)
	}
}

// join counts the caller in key's live call, starting one if none runs;
// false with a dropped call, which the caller must let end.
func (g *Flights[T]) join(ctx context.Context, key string, fn func(context.Context) (T, error)) (*flight[T], bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.flights == nil {
		g.flights = map[string]*flight[T]{}
	}
	f, ok := g.flights[key]
	if ok && f.dropped {
		return f, false
	}
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight[T]{done: make(chan struct{}), cancel: cancel}
		g.flights[key] = f
		go g.run(fctx, key, f, fn)
	}
	f.waiters++
	return f, true
}

// wait waits for the call's answer; the last waiter to give up cancels it.
func (g *Flights[T]) wait(ctx context.Context, f *flight[T]) (T, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		g.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			f.dropped = true
			f.cancel()
		}
		g.mu.Unlock()
		var zero T
		return zero, ctx.Err()
	}
}

func (g *Flights[T]) run(ctx context.Context, key string, f *flight[T], fn func(context.Context) (T, error)) {
	f.val, f.err = fn(ctx)
	g.mu.Lock()
	delete(g.flights, key)
	g.mu.Unlock()
	f.cancel()
	close(f.done)
}

// Waiting is how many callers wait for key's call (0 when none runs).
func (g *Flights[T]) Waiting(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		return f.waiters
	}
	return 0
}

// Key joins the parts that make two calls the same call (a name, its
// handler or pod, the config's bytes) into a flight key: calls that differ
// in any part never share an answer.
func Key(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
