package streaming

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/containerd/errdefs"
	lib "k8s.io/cri-streaming/pkg/streaming"
)

// Server is the streaming HTTP server. Its Get* methods hand out the
// one-time URLs the CRI Exec, Attach and PortForward calls answer with.
type Server struct {
	lib.Server
	http *http.Server
	ln   net.Listener
	done chan struct{}

	conns *conns
}

// Listen binds addr (host:port; port 0 picks a free one) and returns a
// server for rt's sessions; Serve starts answering.
func Listen(addr string, rt *Runtime) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("streaming: listen on %s: %v: %w", addr, err, errdefs.ErrUnavailable)
	}
	cfg := lib.DefaultConfig
	cfg.Addr = ln.Addr().String()
	cfg.BaseURL = &url.URL{Scheme: "http", Host: cfg.Addr}
	s, err := lib.NewServer(cfg, rt)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("streaming: %w", err)
	}
	cs := &conns{open: map[*conn]struct{}{}}
	return &Server{Server: s, ln: &listener{Listener: ln, conns: cs}, done: make(chan struct{}), conns: cs,
		http: &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}}, nil
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
