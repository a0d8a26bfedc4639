package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
)

// maxSocketPath is the longest unix socket path the kernel accepts (sun_path less the NUL).
const maxSocketPath = 107

var runtimeNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$`)

func (c *Config) validate() []*Error {
	var errs []*Error
	add := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	for key, p := range map[string]string{"root": c.Root, "state": c.State, "address": c.Address} {
		if !filepath.IsAbs(p) {
			add(key, "%q is not an absolute path", p)
		}
	}
	if len(c.Address) > maxSocketPath {
		add("address", "%q is longer than %d bytes, the limit of a unix socket path", c.Address, maxSocketPath)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	for i, dir := range c.CDISpecDirs {
		if !filepath.IsAbs(dir) {
			add(fmt.Sprintf("cdi_spec_dirs[%d]", i), "%q is not an absolute path", dir)
		}
	}
	errs = append(errs, c.validateRuntimes()...)
	errs = append(errs, c.Images.validate()...)
	if c.Images.ImportDir != "" && !filepath.IsAbs(c.Images.ImportDir) {
		add("images.import_dir", "%q is not an absolute path", c.Images.ImportDir)
	}
	if c.Network.ConfTemplate != "" && !filepath.IsAbs(c.Network.ConfTemplate) {
		add("network.conf_template", "%q is not an absolute path", c.Network.ConfTemplate)
	}
	errs = append(errs, c.Streaming.validate()...)
	errs = append(errs, c.NRI.validate()...)
	sortErrors(errs)
	return errs
}

func (c *Config) validateRuntimes() []*Error {
	var errs []*Error
	for n, rt := range c.Runtimes {
		key := "runtimes." + keyString([]string{n})
		if !runtimeNameRE.MatchString(n) {
			errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf("runtime name %q must be a DNS label: lower-case letters, digits, '-' and '.'", n)})
		}
		switch rt.Bootstrap {
		case "", "options", "params":
		default:
			errs = append(errs, &Error{Key: key + ".bootstrap", Reason: fmt.Sprintf("%q is not options (containerd up to 2.2) or params (containerd 2.3's BootstrapParams)", rt.Bootstrap)})
		}
		if strings.TrimSpace(rt.Shim) == "" {
			errs = append(errs, &Error{Key: key + ".shim", Reason: "is required: a shim binary name on PATH or an absolute path"})
		}
	}
	if _, ok := c.Runtimes[c.DefaultRuntime]; !ok {
		errs = append(errs, &Error{Key: "default_runtime", Reason: fmt.Sprintf("%q is not a configured runtime (have %s)", c.DefaultRuntime, strings.Join(c.runtimeNames(), ", "))})
	}
	return errs
}

func (c *Config) runtimeNames() []string {
	names := make([]string, 0, len(c.Runtimes))
	for n := range c.Runtimes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (im *Images) validate() []*Error {
	var errs []*Error
	if im.PauseImage != "" {
		if _, err := reference.ParseNormalizedNamed(im.PauseImage); err != nil {
			errs = append(errs, &Error{Key: "images.pause_image", Reason: err.Error()})
		}
	}
	errs = append(errs, im.ImageLimits.validate()...)
	for i, h := range im.PlainHTTPRegistries {
		if err := validateHost(h); err != nil {
			errs = append(errs, &Error{Key: fmt.Sprintf("images.plain_http_registries[%d]", i), Reason: err.Error()})
		}
	}
	for host, m := range im.Mirrors {
		key := "images.mirrors." + keyString([]string{host})
		if err := validateHost(host); err != nil {
			errs = append(errs, &Error{Key: key, Reason: err.Error()})
		}
		if len(m.Endpoints) == 0 && !m.Fallback() {
			errs = append(errs, &Error{Key: key + ".endpoints", Reason: "is empty and fallback_to_host is false: the host could never be reached"})
		}
		for i, ep := range m.Endpoints {
			if _, err := ParseEndpoint(ep); err != nil {
				errs = append(errs, &Error{Key: fmt.Sprintf("%s.endpoints[%d]", key, i), Reason: err.Error()})
			}
		}
	}
	return errs
}

// validateHost accepts a registry host: "name", "name:port", "ip:port".
func validateHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/ @") {
		return fmt.Errorf("%q is not a registry host (host or host:port)", h)
	}
	if _, err := name.NewRegistry(h, name.StrictValidation); err != nil {
		return fmt.Errorf("%q is not a registry host: %v", h, err)
	}
	return nil
}

// ParseEndpoint checks a mirror endpoint URL: http or https, a host, no query.
func ParseEndpoint(s string) (*url.URL, error) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return nil, fmt.Errorf("%q must start with http:// or https://", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q must start with http:// or https://", s)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q must be scheme://host[:port] with no user, path, query or fragment", s)
	}
	if err := validateHost(u.Host); err != nil {
		return nil, err
	}
	return u, nil
}

func sortErrors(errs []*Error) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Key < errs[j].Key })
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

func (l ImageLimits) validate() []*Error {
	var errs []*Error
	if l.ImagePullProgressTimeout < 0 {
		errs = append(errs, &Error{Key: "images.image_pull_progress_timeout", Reason: "must be a positive duration such as \"5m\""})
	}
	for key, v := range map[string]int64{"max_manifest_bytes": l.MaxManifestBytes, "max_config_bytes": l.MaxConfigBytes,
		"max_layer_bytes": l.MaxLayerBytes, "max_layer_unpacked_bytes": l.MaxLayerUnpackedBytes, "max_layer_entries": l.MaxLayerEntries} {
		if v < 0 {
			errs = append(errs, &Error{Key: "images." + key, Reason: fmt.Sprintf("%d is negative", v)})
		}
	}
	return errs
}
