package streaming

import (
	"net"
	"sync"
)

// conns are the server's open connections. Sessions (SPDY, WebSocket)
// hijack theirs, after which http.Server.Close no longer sees them; the
// listener hands out conns that leave this set when closed, so Close can
// end every session.
type conns struct {
	mu   sync.Mutex
	open map[*conn]struct{} // guarded by mu
}

func (cs *conns) closeAll() {
	cs.mu.Lock()
	all := cs.open
	cs.open = map[*conn]struct{}{}
	cs.mu.Unlock()
	for c := range all {
		_ = c.Conn.Close()
	}
}

type listener struct {
	net.Listener
	conns *conns
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &conn{Conn: c, conns: l.conns}
	l.conns.mu.Lock()
	l.conns.open[tc] = struct{}{}
	l.conns.mu.Unlock()
	return tc, nil
}

type conn struct {
	net.Conn
	conns *conns
}

func (c *conn) Close() error {
	c.conns.mu.Lock()
	delete(c.conns.open, c)
	c.conns.mu.Unlock()
	return c.Conn.Close()
}
