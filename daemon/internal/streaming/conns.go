package streaming

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
)

// conns are the server's open connections, at most max. Sessions (SPDY,
// WebSocket) hijack theirs, after which http.Server.Close no longer sees
// them; the listener hands out conns that leave this set when closed, so
// Close can end every session. A connection is busy while a request is
// served (or hijacked), idle otherwise: at the cap, the connection idle
// longest is closed to admit a new one, so a client holding idle
// connections can neither exhaust descriptors nor lock others out.
type conns struct {
	max  int
	mu   sync.Mutex
	open map[*conn]struct{} // guarded by mu
	tick uint64             // guarded by mu; orders idleness
}

func newConns(max int) *conns {
	return &conns{max: max, open: map[*conn]struct{}{}}
}

// admit adds c, first evicting the connection idle longest when the set
// is full; with every connection busy, c is refused (false).
func (cs *conns) admit(c *conn) bool {
	cs.mu.Lock()
	var victim *conn
	if cs.max > 0 && len(cs.open) >= cs.max {
		for o := range cs.open {
			if !o.busy && (victim == nil || o.idleSince < victim.idleSince) {
				victim = o
			}
		}
		if victim == nil {
			cs.mu.Unlock()
			return false
		}
		delete(cs.open, victim)
	}
	cs.tick++
	c.idleSince = cs.tick
	cs.open[c] = struct{}{}
	cs.mu.Unlock()
	if victim != nil {
		_ = victim.Conn.Close()
	}
	return true
}

// setState is http.Server's ConnState hook: it marks connections busy or
// idle.
func (cs *conns) setState(nc net.Conn, st http.ConnState) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch st {
	case http.StateActive, http.StateHijacked:
		c.busy = true
	case http.StateIdle:
		c.busy = false
		cs.tick++
		c.idleSince = cs.tick
	}
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

// Accept returns the next connection the set admits; one refused (every
// connection busy) is closed at once.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &conn{Conn: c, conns: l.conns}
		if l.conns.admit(tc) {
			return tc, nil
		}
		_ = c.Close()
	}
}

type conn struct {
	net.Conn
	conns *conns
	// busy and idleSince are guarded by conns.mu.
	busy      bool
	idleSince uint64
}

func (c *conn) Close() error {
	c.conns.mu.Lock()
	delete(c.conns.open, c)
	c.conns.mu.Unlock()
	return c.Conn.Close()
}
