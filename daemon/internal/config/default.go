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

[nri]                                  # Node Resource Interface plugins (containerd's keys)
disable = false                        # true: no NRI at all
socket_path = "/var/run/nri/nri.sock"  # where external plugins connect
plugin_path = "/opt/nri/plugins"       # plugins runletd starts itself
plugin_config_path = "/etc/nri/conf.d" # their configuration drop-ins
plugin_registration_timeout = "5s"
plugin_request_timeout = "2s"          # a plugin slower than this is disconnected
disable_connections = false            # true: refuse external plugins
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
		Streaming: Streaming{Address: "127.0.0.1:0"},
		NRI: NRI{SocketPath: "/var/run/nri/nri.sock", PluginPath: "/opt/nri/plugins",
			PluginConfigPath: "/etc/nri/conf.d", PluginRegistrationTimeout: "5s", PluginRequestTimeout: "2s"},
	}
}
