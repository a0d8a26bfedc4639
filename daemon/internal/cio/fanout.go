package cio

import (
	"io"
	"sync"
	"time"
)

// clientQueue is how many writes an attached client may lag behind before
// it is dropped: a client that stops reading never holds up the container
// or its log.
const clientQueue = 256

// fanout is one output stream of a container: every write goes to its sink
// (the CRI log, or nowhere) and is queued to the clients attached at that
// moment. A client whose queue is full, or whose write fails, is dropped;
// the sink never is.
type fanout struct {
	sink io.WriteCloser

	mu      sync.Mutex
	clients map[*client]struct{} // guarded by mu
}

// drainTimeout bounds how long a session that ends may take to be
// written what was queued for it before.
const drainTimeout = 5 * time.Second

// client is one attached writer and the goroutine feeding it.
type client struct {
	w     io.Writer
	queue chan []byte
	gone  func()        // called once when the client is dropped or fails
	fed   chan struct{} // closed when the feeding goroutine has ended
}

func newFanout(sink io.WriteCloser) *fanout {
	return &fanout{sink: sink, clients: map[*client]struct{}{}}
}

func (f *fanout) Write(p []byte) (int, error) {
	n, err := f.sink.Write(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clients) == 0 {
		return n, err
	}
	chunk := append([]byte(nil), p...)
	for c := range f.clients {
		select {
		case c.queue <- chunk:
		default:
			f.dropLocked(c)
			c.gone()
		}
	}
	return n, err
}

func (f *fanout) Close() error { return f.sink.Close() }

// add attaches w until remove is called; gone is called when w is dropped
// (it lags or a write fails). remove returns a channel closed once what
// was queued for w before is written (at once for a client dropped
// before): output the container wrote just before its end can still
// reach the session.
func (f *fanout) add(w io.Writer, gone func()) (remove func() (drained <-chan struct{})) {
	c := &client{w: w, queue: make(chan []byte, clientQueue), gone: gone, fed: make(chan struct{})}
	f.mu.Lock()
	f.clients[c] = struct{}{}
	f.mu.Unlock()
	go c.feed(f)
	return func() <-chan struct{} {
		f.mu.Lock()
		attached := f.dropLocked(c)
		f.mu.Unlock()
		if !attached {
			return closedChan() // it lagged or failed: nothing to wait for
		}
		return c.fed
	}
}

// dropLocked forgets c and ends its feeder once its queue is written;
// f.mu is held. It reports whether c was still attached.
func (f *fanout) dropLocked(c *client) bool {
	if _, ok := f.clients[c]; !ok {
		return false
	}
	delete(f.clients, c)
	close(c.queue)
	return true
}

// feed writes c's queue to its writer; on a failed write it drops c and
// drains what is left.
func (c *client) feed(f *fanout) {
	defer close(c.fed)
	for chunk := range c.queue {
		if _, err := c.w.Write(chunk); err != nil {
			f.mu.Lock()
			f.dropLocked(c)
			f.mu.Unlock()
			c.gone()
			for range c.queue {
			}
			return
		}
	}
}
