package cio

import (
	"io"
	"sync"
)

// fanout is one output stream of a container: every write goes to its sink
// (the CRI log, or nowhere) and to the clients attached at that moment. A
// client whose write fails is dropped; the sink never is.
type fanout struct {
	sink io.WriteCloser

	mu      sync.Mutex
	clients map[io.Writer]struct{} // guarded by mu
}

func newFanout(sink io.WriteCloser) *fanout {
	return &fanout{sink: sink, clients: map[io.Writer]struct{}{}}
}

func (f *fanout) Write(p []byte) (int, error) {
	n, err := f.sink.Write(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.clients {
		if _, werr := w.Write(p); werr != nil {
			delete(f.clients, w)
		}
	}
	return n, err
}

func (f *fanout) Close() error { return f.sink.Close() }

// add attaches w until the returned func is called.
func (f *fanout) add(w io.Writer) (remove func()) {
	f.mu.Lock()
	f.clients[w] = struct{}{}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.clients, w)
		f.mu.Unlock()
	}
}
