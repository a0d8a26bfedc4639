package images

import (
	"context"
	"sync"
)

// flightGroup runs one call per key at a time and gives its result to every
// caller that asked meanwhile. Unlike a plain singleflight, the call runs on
// its own context, cancelled only when every waiting caller has given up:
// one impatient client does not fail the others' pull.
type flightGroup[T any] struct {
	mu      sync.Mutex
	flights map[string]*flight[T] // guarded by mu
}

type flight[T any] struct {
	done    chan struct{}
	val     T
	err     error
	waiters int // guarded by the group's mu
	cancel  context.CancelFunc
}

// do returns fn's result for key, starting fn unless a call for key is running.
func (g *flightGroup[T]) do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	g.mu.Lock()
	if g.flights == nil {
		g.flights = map[string]*flight[T]{}
	}
	f, ok := g.flights[key]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight[T]{done: make(chan struct{}), cancel: cancel}
		g.flights[key] = f
		go g.run(fctx, key, f, fn)
	}
	f.waiters++
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		g.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			f.cancel()
		}
		g.mu.Unlock()
		var zero T
		return zero, ctx.Err()
	}
}

func (g *flightGroup[T]) run(ctx context.Context, key string, f *flight[T], fn func(context.Context) (T, error)) {
	f.val, f.err = fn(ctx)
	g.mu.Lock()
	delete(g.flights, key)
	g.mu.Unlock()
	f.cancel()
	close(f.done)
}
