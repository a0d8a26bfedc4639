package config

import (
	"strings"
	"testing"
	"time"
)

func TestStreamingLimitsDefaultAndParse(t *testing.T) {
	c, err := Parse("runlet.toml", []byte("[streaming]\nstream_idle_timeout = \"90s\"\nmax_sessions = 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	streamIdle, connIdle := c.Streaming.Timeouts()
	if streamIdle != 90*time.Second || connIdle != 30*time.Second || c.Streaming.MaxSessions != 3 || c.Streaming.MaxConnections != 512 {
		t.Fatalf("streaming %+v: %v %v", c.Streaming, streamIdle, connIdle)
	}
}

func TestBadStreamingKeysNameTheKey(t *testing.T) {
	for text, key := range map[string]string{
		"stream_idle_timeout = \"forever\"": "streaming.stream_idle_timeout",
		"connection_idle_timeout = \"-1s\"": "streaming.connection_idle_timeout",
		"max_connections = -1":              "streaming.max_connections",
		"max_sessions = -5":                 "streaming.max_sessions",
		"enable_tls_streaming = true":       "streaming.x509_key_pair_streaming.tls_cert_file",
		"[streaming.x509_key_pair_streaming]\ntls_key_file = \"/etc/k.pem\"":                                                     "streaming.x509_key_pair_streaming.tls_key_file",
		"enable_tls_streaming = true\n[streaming.x509_key_pair_streaming]\ntls_cert_file = \"c.pem\"\ntls_key_file = \"/k.pem\"": "streaming.x509_key_pair_streaming.tls_cert_file",
	} {
		_, err := Parse("runlet.toml", []byte("[streaming]\n"+text+"\n"))
		if err == nil || !strings.Contains(err.Error(), "key "+key) {
			t.Errorf("%q: %v, want an error naming %s", text, err, key)
		}
	}
}
