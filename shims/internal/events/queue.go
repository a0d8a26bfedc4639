package events

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/runlet/runlet/proto/types"
)

// queueCap bounds the events a shim keeps for a daemon that is away: a
// pod's lifecycle makes a handful of events per container, so 1024 holds
// every event of a busy pod through a daemon restart of minutes. At the
// cap the oldest event that is not an exit or an OOM is dropped first
// (the daemon learns those states from State); only a queue holding
// nothing but exits and OOMs drops the oldest of them.
const queueCap = 1024

// kept are the topics a full queue drops last: the reasons nobody can
// learn later (State reports the exit status, but not that it was an OOM,
// and the daemon waits for /tasks/exit to act).
var kept = map[string]bool{"/tasks/exit": true, "/tasks/oom": true}

// queue holds the envelopes not yet delivered, oldest first. push never
// blocks: a full queue drops instead, so exit handling and every task RPC
// that publishes go on whatever the daemon does.
type queue struct {
	ready chan struct{} // gets a token when an envelope is pushed or the queue closes

	mu      sync.Mutex
	items   []*types.Envelope // guarded by mu
	closed  bool              // guarded by mu
	dropped int               // guarded by mu
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

// push appends env, dropping one older envelope when the queue is full.
func (q *queue) push(env *types.Envelope) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("publish %s: the publisher is closed", env.GetTopic())
	}
	if len(q.items) >= queueCap {
		q.dropOne()
	}
	q.items = append(q.items, env)
	q.signal()
	return nil
}

// dropOne removes the oldest envelope whose topic is not kept, else the
// oldest. The caller holds mu.
func (q *queue) dropOne() {
	i := 0
	for j, env := range q.items {
		if !kept[env.GetTopic()] {
			i = j
			break
		}
	}
	victim := q.items[i]
	q.items = append(q.items[:i], q.items[i+1:]...)
	q.dropped++
	slog.Warn("event queue full: dropping an undelivered event", "topic", victim.GetTopic(),
		"cap", queueCap, "dropped", q.dropped)
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// head returns the oldest envelope; ok is false when the queue is empty.
// done is true once the queue is closed and empty.
func (q *queue) head() (env *types.Envelope, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) > 0 {
		return q.items[0], false
	}
	return nil, q.closed
}

// remove takes a delivered envelope out (it may have been dropped while
// it was delivered: then nothing happens).
func (q *queue) remove(env *types.Envelope) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, e := range q.items {
		if e == env {
			q.items = append(q.items[:i], q.items[i+1:]...)
			return
		}
	}
}

// close refuses further pushes; what is queued is still delivered.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
