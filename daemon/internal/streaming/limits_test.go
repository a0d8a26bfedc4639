package streaming

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// serveLimited serves h with o's limits on a loopback port.
func serveLimited(t *testing.T, o Options, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cs := newConns(o.MaxConns)
	srv := newHTTPServer(h, o, cs)
	go srv.Serve(&listener{Listener: ln, conns: cs})
	t.Cleanup(func() { srv.Close(); cs.closeAll() })
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server closed c (the read ends
// with EOF or a reset; the deadline only guards a broken server).
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Minute))
	_, err := io.ReadAll(c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

func get(t *testing.T, c net.Conn) int {
	t.Helper()
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func TestAConnectionThatSendsNoRequestIsClosedAtTheIdleTimeout(t *testing.T) {
	addr := serveLimited(t, Options{ConnIdleTimeout: 100 * time.Millisecond, MaxConns: 8, MaxSessions: 8}, ok)
	if !closedByServer(dial(t, addr)) {
		t.Fatal("an idle connection stayed open")
	}
	c := dial(t, addr) // and one idle between requests
	if get(t, c) != http.StatusOK || !closedByServer(c) {
		t.Fatal("a kept-alive idle connection stayed open")
	}
}

func TestAtTheCapTheConnectionIdleLongestMakesRoomForANewOne(t *testing.T) {
	addr := serveLimited(t, Options{ConnIdleTimeout: time.Hour, MaxConns: 4, MaxSessions: 8}, ok)
	var idle []net.Conn
	for range 4 {
		idle = append(idle, dial(t, addr))
	}
	if code := get(t, dial(t, addr)); code != http.StatusOK {
		t.Fatalf("the fifth connection got %d", code)
	}
	if !closedByServer(idle[0]) {
		t.Fatal("the connection idle longest was kept")
	}
}

func TestBusyConnectionsAreNeverEvictedAndOneMoreIsRefused(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{}, 2)
	defer close(release)
	addr := serveLimited(t, Options{ConnIdleTimeout: time.Hour, MaxConns: 2, MaxSessions: 8},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { entered <- struct{}{}; <-release }))
	for range 2 {
		fmt.Fprint(dial(t, addr), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		<-entered
	}
	if !closedByServer(dial(t, addr)) {
		t.Fatal("a third connection was kept beside two busy ones")
	}
}

func TestOneSessionMoreThanMaxSessionsIsTooManyRequests(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	defer close(release)
	addr := serveLimited(t, Options{ConnIdleTimeout: time.Hour, MaxConns: 8, MaxSessions: 1},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { entered <- struct{}{}; <-release }))
	fmt.Fprint(dial(t, addr), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered
	if code := get(t, dial(t, addr)); code != http.StatusTooManyRequests {
		t.Fatalf("a second session got %d, want 429", code)
	}
}
