package cio

import (
	"io"
	"sync"
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

// client is one attached writer and the goroutine feeding it.
type client struct {
	w     io.Writer
	queue chan []byte
	gone  func() // called once when the client is dropped or fails
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

// add attaches w until the returned func is called; gone is called when w
// is dropped (it lags or a write fails).
func (f *fanout) add(w io.Writer, gone func()) (remove func()) {
	c := &client{w: w, queue: make(chan []byte, clientQueue), gone: gone}
	f.mu.Lock()
	f.clients[c] = struct{}{}
	f.mu.Unlock()
	go c.feed(f)
	return func() {
		f.mu.Lock()
		f.dropLocked(c)
		f.mu.Unlock()
	}
}

// dropLocked forgets c and ends its feeder; f.mu is held.
func (f *fanout) dropLocked(c *client) {
	if _, ok := f.clients[c]; ok {
		delete(f.clients, c)
		close(c.queue)
	}
}

// feed writes c's queue to its writer; on a failed write it drops c and
// drains what is left.
func (c *client) feed(f *fanout) {
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
