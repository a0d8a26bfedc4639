package cio

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type nopCloser struct{ *lockedBuffer }

func (nopCloser) Close() error { return nil }

// blockedWriter never returns from Write until released.
type blockedWriter struct{ release chan struct{} }

func (w blockedWriter) Write(p []byte) (int, error) { <-w.release; return len(p), nil }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestAStalledClientIsDroppedWithoutHoldingUpTheLog(t *testing.T) {
	log := &lockedBuffer{}
	f := newFanout(nopCloser{log})
	stalled := blockedWriter{release: make(chan struct{})}
	defer close(stalled.release)
	gone := make(chan struct{})
	remove := f.add(stalled, func() { close(gone) })
	defer remove()
	done := make(chan struct{})
	go func() {
		for i := 0; i < clientQueue+10; i++ {
			f.Write([]byte("x"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writes to the log blocked behind a stalled client")
	}
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled client was not reported gone")
	}
	if got := len(log.String()); got != clientQueue+10 {
		t.Fatalf("log holds %d bytes, want %d", got, clientQueue+10)
	}
}

func TestAClientGetsEveryWriteInOrderAndAFailingOneIsReportedGone(t *testing.T) {
	f := newFanout(nopCloser{&lockedBuffer{}})
	got := &lockedBuffer{}
	remove := f.add(got, func() { t.Error("a reading client was reported gone") })
	gone := make(chan struct{})
	f.add(failingWriter{}, func() { close(gone) })
	for _, s := range []string{"one ", "two ", "three"} {
		f.Write([]byte(s))
	}
	deadline := time.Now().Add(10 * time.Second)
	for got.String() != "one two three" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	remove()
	if got.String() != "one two three" {
		t.Fatalf("client got %q", got.String())
	}
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("a failing client was not reported gone")
	}
}

// slowWriter takes a while over each write, as a client on a loaded
// machine does.
type slowWriter struct{ lockedBuffer }

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return w.lockedBuffer.Write(p)
}

func TestADetachingClientIsWrittenWhatWasQueuedForItFirst(t *testing.T) {
	f := newFanout(nopCloser{&lockedBuffer{}})
	w := &slowWriter{}
	remove := f.add(w, func() { t.Error("a slow client was dropped") })
	for _, line := range []string{"one\n", "two\n", "three\n"} {
		f.Write([]byte(line))
	}
	<-remove() // the container's output ended: the session detaches
	if got := w.String(); got != "one\ntwo\nthree\n" {
		t.Fatalf("the client was written %q before its session ended, want all three lines", got)
	}
}
