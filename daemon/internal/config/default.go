package config

import "time"

// DefaultText is the commented default configuration printed by
// `runletd config default`. Load of this text yields Default().
const DefaultText = `# runletd configuration (TOML). Every key is shown with its default.

root    = "/var/lib/runlet"            # persistent: store, images, snapshots
state   = "/run/runlet"                # volatile: sockets, bundles, fifos
address = "/run/runlet/runlet.sock"    # CRI socket (RuntimeService and ImageService)
log_level = "info"                     # debug, info, warn or error
default_runtime = "runc"               # the runtime for RuntimeHandler ""
# CDI specs naming the devices a container may ask for (CDIDevices, cdi.k8s.io/ annotations);
# a later directory wins over an earlier one; [] turns CDI off.
cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]

[runtimes.runc]
shim = "runlet-shim-runc-v2"           # name on PATH, or an absolute path
bootstrap = "options"                  # what start reads on stdin: "options" (containerd <= 2.2, any shim)
                                       # or "params" (containerd 2.3's protobuf BootstrapParams)
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

# Limits on what a registry or a layer may cost (refused with FailedPrecondition,
# or Unavailable for a registry that stalls). Real images stay far below them.
image_pull_progress_timeout = "5m"     # a registry response that brings no data for this long is cut off
max_manifest_bytes = 4194304           # 4 MiB: a manifest or index
max_config_bytes = 8388608             # 8 MiB: an image config (declared size checked before the fetch)
max_layer_bytes = 107374182400         # 100 GiB: a layer blob as fetched (declared size checked before the fetch)
max_layer_unpacked_bytes = 274877906944 # 256 GiB: a layer's uncompressed tar, and its files' sizes, holes included
max_layer_entries = 10000000           # entries (files, directories, links...) in one layer

# Mirrors: endpoints tried in order before the registry host itself.
# [images.mirrors."registry.k8s.io"]
# endpoints = ["http://127.0.0.1:5000"]
# fallback_to_host = true              # false: never contact the host itself

[network]
cni_bin_dirs = ["/usr/lib/cni"]
cni_conf_dir = "/etc/cni/net.d"
conf_template = ""                     # CNI config template rendered with kubelet's pod CIDR; empty: none

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
			"runc": {Shim: "runlet-shim-runc-v2", Bootstrap: "options", Options: map[string]any{"binary_name": "runc"}},
			"crun": {Shim: "runlet-shim-crun"},
		},
		CDISpecDirs: []string{"/etc/cdi", "/var/run/cdi"},
		Network: Network{
			CNIBinDirs: []string{"/usr/lib/cni"},
			CNIConfDir: "/etc/cni/net.d",
		},
		Images: Images{ImageLimits: DefaultImageLimits()},
		Streaming: Streaming{Address: "127.0.0.1:0", StreamIdleTimeout: "4h0m0s", ConnectionIdleTimeout: "30s",
			MaxConnections: 512, MaxSessions: 256},
		NRI: NRI{SocketPath: "/var/run/nri/nri.sock", PluginPath: "/opt/nri/plugins",
			PluginConfigPath: "/etc/nri/conf.d", PluginRegistrationTimeout: "5s", PluginRequestTimeout: "2s"},
	}
}

// DefaultImageLimits are the limits of a configuration that sets none.
func DefaultImageLimits() ImageLimits {
	return ImageLimits{
		ImagePullProgressTimeout: Duration(5 * time.Minute),
		MaxManifestBytes:         4 << 20,
		MaxConfigBytes:           8 << 20,
		MaxLayerBytes:            100 << 30,
		MaxLayerUnpackedBytes:    256 << 30,
		MaxLayerEntries:          10_000_000,
	}
}

// WithDefaults fills the limits left at zero.
func (l ImageLimits) WithDefaults() ImageLimits {
	d := DefaultImageLimits()
	if l.ImagePullProgressTimeout == 0 {
		l.ImagePullProgressTimeout = d.ImagePullProgressTimeout
	}
	for _, f := range []struct{ v, def *int64 }{
		{&l.MaxManifestBytes, &d.MaxManifestBytes}, {&l.MaxConfigBytes, &d.MaxConfigBytes},
		{&l.MaxLayerBytes, &d.MaxLayerBytes}, {&l.MaxLayerUnpackedBytes, &d.MaxLayerUnpackedBytes},
		{&l.MaxLayerEntries, &d.MaxLayerEntries},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return l
}
