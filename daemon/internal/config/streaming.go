package config

import (
	"fmt"
	"net"
	"path/filepath"
	"time"
)

func (st *Streaming) validate() []*Error {
	var errs []*Error
	add := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: "streaming." + key, Reason: fmt.Sprintf(format, args...)})
	}
	if _, port, err := net.SplitHostPort(st.Address); err != nil || !isPort(port) {
		add("address", "%q is not host:port with a port from 0 to 65535", st.Address)
	}
	for key, v := range map[string]string{"stream_idle_timeout": st.StreamIdleTimeout, "connection_idle_timeout": st.ConnectionIdleTimeout} {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			add(key, "%q is not a positive duration such as \"30s\" or \"4h0m0s\"", v)
		}
	}
	for key, v := range map[string]int{"max_connections": st.MaxConnections, "max_sessions": st.MaxSessions} {
		if v < 1 {
			add(key, "%d is not a positive number", v)
		}
	}
	kp := st.X509KeyPair
	for key, p := range map[string]string{"x509_key_pair_streaming.tls_cert_file": kp.TLSCertFile, "x509_key_pair_streaming.tls_key_file": kp.TLSKeyFile} {
		switch {
		case st.EnableTLS && p == "":
			add(key, "is required with enable_tls_streaming = true (a PEM file)")
		case p != "" && !st.EnableTLS:
			add(key, "is set but enable_tls_streaming is false")
		case p != "" && !filepath.IsAbs(p):
			add(key, "%q is not an absolute path", p)
		}
	}
	return errs
}

// Timeouts are the streaming durations, parsed (validated at load).
func (st *Streaming) Timeouts() (streamIdle, connectionIdle time.Duration) {
	streamIdle, _ = time.ParseDuration(st.StreamIdleTimeout)
	connectionIdle, _ = time.ParseDuration(st.ConnectionIdleTimeout)
	return streamIdle, connectionIdle
}
