package config

import (
	"fmt"
	"path/filepath"
	"time"
)

// Timeouts returns the parsed registration and request timeouts (the
// table was validated).
func (n NRI) Timeouts() (registration, request time.Duration) {
	registration, _ = time.ParseDuration(n.PluginRegistrationTimeout)
	request, _ = time.ParseDuration(n.PluginRequestTimeout)
	return registration, request
}

func (n NRI) validate() []*Error {
	var errs []*Error
	for key, p := range map[string]string{"nri.socket_path": n.SocketPath, "nri.plugin_path": n.PluginPath,
		"nri.plugin_config_path": n.PluginConfigPath} {
		if !filepath.IsAbs(p) {
			errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf("%q is not an absolute path", p)})
		}
	}
	if len(n.SocketPath) > maxSocketPath {
		errs = append(errs, &Error{Key: "nri.socket_path", Reason: fmt.Sprintf("%q is longer than %d bytes, the limit of a unix socket path", n.SocketPath, maxSocketPath)})
	}
	for key, v := range map[string]string{"nri.plugin_registration_timeout": n.PluginRegistrationTimeout,
		"nri.plugin_request_timeout": n.PluginRequestTimeout} {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf("%q is not a positive duration such as \"2s\"", v)})
		}
	}
	return errs
}
