// Package config loads and validates runletd's TOML configuration
// (ARCHITECTURE.md §4). Every error names the file, the key and the reason.
package config

// Config is the whole runletd configuration file.
type Config struct {
	// Root holds persistent state: the metadata store, image content, layers and snapshots.
	Root string `toml:"root"`
	// State holds volatile state: sockets, bundles, FIFOs.
	State string `toml:"state"`
	// Address is the unix socket serving CRI v1 (RuntimeService and ImageService).
	Address string `toml:"address"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `toml:"log_level"`
	// DefaultRuntime names the runtime used for RuntimeHandler "".
	DefaultRuntime string `toml:"default_runtime"`
	// Runtimes are the named runtime handlers. Resolution belongs to runtimeclass/.
	Runtimes map[string]Runtime `toml:"runtimes"`
	// CDISpecDirs are the directories of Container Device Interface specs,
	// in increasing priority (containerd's cdi_spec_dirs, a key of its CRI
	// plugin's table as here).
	CDISpecDirs []string  `toml:"cdi_spec_dirs"`
	Images      Images    `toml:"images"`
	Network     Network   `toml:"network"`
	Streaming   Streaming `toml:"streaming"`
	NRI         NRI       `toml:"nri"`
}

// NRI configures the Node Resource Interface: plugins that watch and
// adjust pods and containers. The keys are containerd's.
type NRI struct {
	// Disable turns NRI off; it is on by default, as in containerd 2.x.
	Disable bool `toml:"disable"`
	// SocketPath is where external plugins connect.
	SocketPath string `toml:"socket_path"`
	// PluginPath holds the plugins runletd starts itself.
	PluginPath string `toml:"plugin_path"`
	// PluginConfigPath holds their configuration drop-ins.
	PluginConfigPath string `toml:"plugin_config_path"`
	// PluginRegistrationTimeout bounds a plugin's registration ("5s").
	PluginRegistrationTimeout string `toml:"plugin_registration_timeout"`
	// PluginRequestTimeout bounds each plugin call ("2s"); a plugin that
	// takes longer is disconnected.
	PluginRequestTimeout string `toml:"plugin_request_timeout"`
	// DisableConnections refuses external plugins (only those of
	// PluginPath run).
	DisableConnections bool `toml:"disable_connections"`
}

// Streaming configures the HTTP server of CRI Exec, Attach and PortForward
// sessions.
type Streaming struct {
	// Address is host:port; port 0 picks a free port at each start. The
	// sessions' URLs carry one-time tokens but no authentication: keep it
	// on loopback unless kubelet reaches the node only otherwise.
	Address string `toml:"address"`
	// StreamIdleTimeout (containerd's key, a Go duration) ends a session
	// whose streams carried nothing for that long.
	StreamIdleTimeout string `toml:"stream_idle_timeout"`
	// ConnectionIdleTimeout (a Go duration) closes a connection that has
	// not sent a request's headers, or sits idle between requests, for
	// that long.
	ConnectionIdleTimeout string `toml:"connection_idle_timeout"`
	// MaxConnections caps the open connections: past it, the connection
	// idle longest (no request yet or between requests) is closed to admit
	// the new one, or the new one is refused when every one is busy.
	MaxConnections int `toml:"max_connections"`
	// MaxSessions caps the exec, attach and port-forward sessions served
	// at once; one more is answered 429 Too Many Requests.
	MaxSessions int `toml:"max_sessions"`
	// EnableTLS (containerd's enable_tls_streaming) serves HTTPS with
	// X509KeyPair.
	EnableTLS   bool        `toml:"enable_tls_streaming"`
	X509KeyPair X509KeyPair `toml:"x509_key_pair_streaming"`
}

// X509KeyPair names a PEM certificate and key (containerd's
// x509_key_pair_streaming).
type X509KeyPair struct {
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
}

// Runtime is one named runtime handler: a containerd shim v2 binary and its options.
type Runtime struct {
	// Shim is a name on PATH or an absolute path.
	Shim string `toml:"shim"`
	// Options are handed to the shim as its runtime options.
	Options map[string]any `toml:"options"`
	// Bootstrap is what the shim's start reads on stdin: "options" (the
	// runtime options alone, as containerd up to 2.2 sends them; every
	// shim understands it) or "params" (containerd 2.3's protobuf
	// BootstrapParams, the options in its extensions). "" is "options".
	Bootstrap string `toml:"bootstrap"`
}

// Images configures the image service.
type Images struct {
	// PauseImage is the sandbox image; "" means the built-in pause.
	PauseImage string `toml:"pause_image"`
	// ImportDir is a directory whose tarballs (OCI layout or docker-archive)
	// are imported at start; "" disables it.
	ImportDir string `toml:"import_dir"`
	// PlainHTTPRegistries are registry hosts (host[:port]) that may be reached
	// over plain HTTP. Every other registry is reached over HTTPS only.
	PlainHTTPRegistries []string `toml:"plain_http_registries"`
	// Mirrors maps a registry host to the endpoints tried before it.
	Mirrors map[string]Mirror `toml:"mirrors"`
	ImageLimits
}

// ImageLimits bound what a registry or a layer may make runletd read, write
// and hold (ARCHITECTURE.md §6, "Input from outside is bounded"). Zero means the
// default; every default is far above what real images need.
type ImageLimits struct {
	// ImagePullProgressTimeout cuts off a registry response (headers or
	// body) that brings no data for this long; containerd's CRI key.
	ImagePullProgressTimeout Duration `toml:"image_pull_progress_timeout"`
	// MaxManifestBytes bounds a manifest or index body.
	MaxManifestBytes int64 `toml:"max_manifest_bytes"`
	// MaxConfigBytes bounds an image config; its declared size is checked before the fetch.
	MaxConfigBytes int64 `toml:"max_config_bytes"`
	// MaxLayerBytes bounds a layer blob as fetched (compressed); its declared
	// size is checked before the fetch.
	MaxLayerBytes int64 `toml:"max_layer_bytes"`
	// MaxLayerUnpackedBytes bounds a layer's uncompressed tar stream and the
	// sum of its files' sizes (sparse holes included).
	MaxLayerUnpackedBytes int64 `toml:"max_layer_unpacked_bytes"`
	// MaxLayerEntries bounds the entries (headers) of one layer.
	MaxLayerEntries int64 `toml:"max_layer_entries"`
}

// Mirror lists the endpoints tried, in order, for one registry host.
type Mirror struct {
	// Endpoints are URLs: scheme (http or https), host and port, optionally a path.
	Endpoints []string `toml:"endpoints"`
	// FallbackToHost tries the registry host itself after the endpoints;
	// unset means true.
	FallbackToHost *bool `toml:"fallback_to_host"`
}

// Network configures pod networking (CNI).
type Network struct {
	CNIBinDirs []string `toml:"cni_bin_dirs"`
	CNIConfDir string   `toml:"cni_conf_dir"`
	// ConfTemplate is a Go template of a CNI config (containerd's cni
	// conf_template) rendered into CNIConfDir when kubelet sends the node's
	// pod CIDR and no usable CNI config exists; "" leaves that to others.
	ConfTemplate string `toml:"conf_template"`
}

// Fallback reports whether the registry host itself is tried after the mirror endpoints.
func (m Mirror) Fallback() bool {
	return m.FallbackToHost == nil || *m.FallbackToHost
}
