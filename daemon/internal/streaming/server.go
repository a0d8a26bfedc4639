package streaming

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/containerd/errdefs"
	lib "k8s.io/cri-streaming/pkg/streaming"
)

// Options configure the streaming server (daemon/README.md, [streaming]).
type Options struct {
	// Addr is host:port; port 0 picks a free port.
	Addr string
	// StreamIdleTimeout ends a session whose streams are idle that long.
	StreamIdleTimeout time.Duration
	// ConnIdleTimeout closes a connection that sends no request headers,
	// or sits idle between requests, for that long.
	ConnIdleTimeout time.Duration
	// MaxConns caps the open connections, MaxSessions the sessions.
	MaxConns, MaxSessions int
	// TLSCertFile and TLSKeyFile, when set, make it an HTTPS server.
	TLSCertFile, TLSKeyFile string
}

// Server is the streaming HTTP server. Its Get* methods hand out the
// one-time URLs the CRI Exec, Attach and PortForward calls answer with.
type Server struct {
	lib.Server
	http *http.Server
	ln   net.Listener
	done chan struct{}

	conns *conns
}

// Listen binds o.Addr and returns a server for rt's sessions; Serve
// starts answering.
func Listen(o Options, rt *Runtime) (*Server, error) {
	tlsCfg, err := tlsConfig(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("streaming: listen on %s: %v: %w", o.Addr, err, errdefs.ErrUnavailable)
	}
	cfg := lib.DefaultConfig
	cfg.Addr = ln.Addr().String()
	cfg.BaseURL = &url.URL{Scheme: "http", Host: cfg.Addr}
	if tlsCfg != nil {
		cfg.BaseURL.Scheme = "https"
	}
	cfg.StreamIdleTimeout = o.StreamIdleTimeout
	s, err := lib.NewServer(cfg, rt)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("streaming: %w", err)
	}
	cs := newConns(o.MaxConns)
	var served net.Listener = &listener{Listener: ln, conns: cs}
	if tlsCfg != nil {
		// Above the tracking listener: http.Server sees *tls.Conn (its
		// handshake deadline, r.TLS) and ConnState reaches our conn.
		served = tls.NewListener(served, tlsCfg)
	}
	return &Server{Server: s, ln: served, done: make(chan struct{}), conns: cs, http: newHTTPServer(s, o, cs)}, nil
}

// newHTTPServer serves h with o's limits on the connections of cs.
func newHTTPServer(h http.Handler, o Options, cs *conns) *http.Server {
	return &http.Server{
		Handler:           limitSessions(h, o.MaxSessions),
		ReadHeaderTimeout: o.ConnIdleTimeout,
		IdleTimeout:       o.ConnIdleTimeout,
		ConnState:         cs.setState,
		// A session, once served, has its own idle timeout.
	}
}

// tlsConfig loads the key pair, or returns nil for plain HTTP.
func tlsConfig(o Options) (*tls.Config, error) {
	if o.TLSCertFile == "" && o.TLSKeyFile == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("streaming: TLS key pair %s, %s: %v: %w", o.TLSCertFile, o.TLSKeyFile, err, errdefs.ErrInvalidArgument)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

// limitSessions serves at most n requests (sessions: each is served
// until it ends) at once; one more is answered 429.
func limitSessions(h http.Handler, n int) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			h.ServeHTTP(w, r)
		default:
			http.Error(w, fmt.Sprintf("runletd serves at most %d streaming sessions at once (streaming.max_sessions)", n), http.StatusTooManyRequests)
		}
	})
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers sessions until Close.
func (s *Server) Serve() error {
	defer close(s.done)
	if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops listening and ends every open session's connection.
func (s *Server) Close(ctx context.Context) error {
	err := s.http.Close()
	s.conns.closeAll()
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	return err
}
