package streaming

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A session's connection, hijacked from the HTTP server as SPDY and
// WebSocket sessions do, is still closed by closeAll, and a closed
// connection leaves the set.
func TestClosingTheServerEndsHijackedSessionConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cs := newConns(0)
	hijacked := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		fmt.Fprint(buf, "HTTP/1.1 101 Switching Protocols\r\n\r\n")
		buf.Flush()
		close(hijacked)
		_ = c // held open, as a session holds its stream
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(&listener{Listener: ln, conns: cs})
	defer srv.Close()

	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	fmt.Fprint(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(client)
	if line, err := br.ReadString('\n'); err != nil || line != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("upgrade answer %q, %v", line, err)
	}
	<-hijacked
	srv.Close() // what http.Server alone does: hijacked connections stay
	cs.closeAll()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(br); err != nil {
		t.Fatalf("the hijacked connection was not closed: %v", err)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.open) != 0 {
		t.Fatalf("%d connections still tracked", len(cs.open))
	}
}
