package config

import (
	"strings"
	"testing"
	"time"
)

func TestNRIIsOnByDefaultOnContainerdsSocket(t *testing.T) {
	c, err := Parse("empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := c.NRI
	if n.Disable || n.DisableConnections || n.SocketPath != "/var/run/nri/nri.sock" ||
		n.PluginPath != "/opt/nri/plugins" || n.PluginConfigPath != "/etc/nri/conf.d" {
		t.Fatalf("defaults: %+v", n)
	}
	if reg, req := n.Timeouts(); reg != 5*time.Second || req != 2*time.Second {
		t.Fatalf("timeouts %v %v", reg, req)
	}
}

func TestNRITableTakesContainerdsKeys(t *testing.T) {
	c, err := Parse("nri", []byte(`[nri]
disable = true
socket_path = "/tmp/x/nri.sock"
plugin_path = "/tmp/x/plugins"
plugin_config_path = "/tmp/x/conf.d"
plugin_registration_timeout = "7s"
plugin_request_timeout = "1m"
disable_connections = true
`))
	if err != nil {
		t.Fatal(err)
	}
	n := c.NRI
	if !n.Disable || !n.DisableConnections || n.SocketPath != "/tmp/x/nri.sock" || n.PluginPath != "/tmp/x/plugins" ||
		n.PluginConfigPath != "/tmp/x/conf.d" {
		t.Fatalf("parsed: %+v", n)
	}
	if reg, req := n.Timeouts(); reg != 7*time.Second || req != time.Minute {
		t.Fatalf("timeouts %v %v", reg, req)
	}
}

func TestNRIBadValuesNameTheirKeys(t *testing.T) {
	_, err := Parse("bad.toml", []byte(`[nri]
socket_path = "nri.sock"
plugin_request_timeout = "soon"
plugin_registration_timeout = "-1s"
`))
	if err == nil {
		t.Fatal("bad [nri] accepted")
	}
	for _, want := range []string{"bad.toml: key nri.socket_path", "key nri.plugin_request_timeout",
		"key nri.plugin_registration_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
