package config

// DefaultText is the commented default configuration printed by
// `runletd config default`. Load of this text yields Default().
const DefaultText = `# runletd configuration (TOML). Every key is shown with its default.

root    = "/var/lib/runlet"            # persistent: store, images, snapshots
state   = "/run/runlet"                # volatile: sockets, bundles, fifos
address = "/run/runlet/runlet.sock"    # CRI socket (RuntimeService and ImageService)
log_level = "info"                     # debug, info, warn or error
default_runtime = "runc"               # the runtime for RuntimeHandler ""

[runtimes.runc]
shim = "runlet-shim-runc-v2"           # name on PATH, or an absolute path
[runtimes.runc.options]                # handed to the shim as its runtime options
binary_name = "runc"

[runtimes.crun]
shim = "runlet-shim-crun"

# Any containerd shim v2 binary plugs in:
# [runtimes.containerd-runc]
# shim = "/usr/bin/containerd-shim-runc-v2"

[images]
pause_image = ""                       # empty: the built-in pause, nothing to pull
import_dir = ""                        # tarballs here are imported at start; empty: none
plain_http_registries = []             # hosts ("host:port") that may be reached over plain HTTP

# Mirrors: endpoints tried in order before the registry host itself.
# [images.mirrors."registry.k8s.io"]
# endpoints = ["http://127.0.0.1:5000"]
# fallback_to_host = true              # false: never contact the host itself

[network]
cni_bin_dirs = ["/usr/lib/cni"]
cni_conf_dir = "/etc/cni/net.d"

[streaming]
address = "127.0.0.1:0"                # exec/attach/port-forward sessions; port 0: any free port
stream_idle_timeout = "4h0m0s"         # a session with no traffic that long ends (containerd's default)
connection_idle_timeout = "30s"        # a connection without a request that long is closed
max_connections = 512                  # open connections; past it the longest idle one is closed
max_sessions = 256                     # sessions at once; one more gets 429 Too Many Requests
enable_tls_streaming = false           # serve HTTPS with the key pair below
# [streaming.x509_key_pair_streaming]
# tls_cert_file = "/etc/runlet/streaming.crt"   # PEM
# tls_key_file = "/etc/runlet/streaming.key"    # PEM
`

// Default returns the configuration used when a key is absent.
func Default() Config {
	return Config{
		Root:           "/var/lib/runlet",
		State:          "/run/runlet",
		Address:        "/run/runlet/runlet.sock",
		LogLevel:       "info",
		DefaultRuntime: "runc",
		Runtimes: map[string]Runtime{
			"runc": {Shim: "runlet-shim-runc-v2", Options: map[string]any{"binary_name": "runc"}},
			"crun": {Shim: "runlet-shim-crun"},
		},
		Network: Network{
			CNIBinDirs: []string{"/usr/lib/cni"},
			CNIConfDir: "/etc/cni/net.d",
		},
		Streaming: Streaming{Address: "127.0.0.1:0", StreamIdleTimeout: "4h0m0s", ConnectionIdleTimeout: "30s",
			MaxConnections: 512, MaxSessions: 256},
	}
}
