// Package config loads and validates runletd's TOML configuration
// (DESIGN.md section 4). Every error names the file, the key and the reason.
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
	Runtimes  map[string]Runtime `toml:"runtimes"`
	Images    Images             `toml:"images"`
	Network   Network            `toml:"network"`
	Streaming Streaming          `toml:"streaming"`
	NRI       NRI                `toml:"nri"`
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
}

// Runtime is one named runtime handler: a containerd shim v2 binary and its options.
type Runtime struct {
	// Shim is a name on PATH or an absolute path.
	Shim string `toml:"shim"`
	// Options are handed to the shim as its runtime options.
	Options map[string]any `toml:"options"`
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
}

// Fallback reports whether the registry host itself is tried after the mirror endpoints.
func (m Mirror) Fallback() bool {
	return m.FallbackToHost == nil || *m.FallbackToHost
}
