// Package keylock serialises the state-changing calls on one object (a pod
// or a container, by id): kubelet retries a call that timed out while the
// first is still running, and the two must not interleave.
package keylock

import (
	"context"
	"fmt"
	"sync"
)

// Locks is a set of mutexes by key; a key's mutex exists only while it is
// held or awaited.
type Locks struct {
	mu    sync.Mutex
	locks map[string]*entry // guarded by mu
}

type entry struct {
	sem  chan struct{} // one token: held while the key is locked
	refs int           // guarded by Locks.mu: holders and waiters
}

// Lock locks key, waiting while another holds it or until ctx ends. The
// returned function unlocks it.
func (l *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	e := l.ref(key)
	select {
	case e.sem <- struct{}{}:
		return func() { <-e.sem; l.unref(key, e) }, nil
	case <-ctx.Done():
		l.unref(key, e)
		return nil, fmt.Errorf("wait for another call on %s: %w", key, ctx.Err())
	}
}

func (l *Locks) ref(key string) *entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks == nil {
		l.locks = map[string]*entry{}
	}
	e, ok := l.locks[key]
	if !ok {
		e = &entry{sem: make(chan struct{}, 1)}
		l.locks[key] = e
	}
	e.refs++
	return e
}

func (l *Locks) unref(key string, e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.locks, key)
	}
}
