package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Error is a configuration error: which file, which key, and why.
type Error struct {
	File   string
	Line   int // 0 when unknown
	Key    string
	Reason string
}

func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("config %s: %s", where, e.Reason)
	}
	return fmt.Sprintf("config %s: key %s: %s", where, e.Key, e.Reason)
}

// Load reads, decodes and validates the file at path. Unknown keys and bad
// values are errors of type *Error (several are joined with errors.Join).
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &Error{File: path, Reason: err.Error()}
	}
	return Parse(path, data)
}

// Parse decodes and validates data; name is the file name used in errors.
func Parse(name string, data []byte) (Config, error) {
	var c Config
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(name, err)
	}
	c.applyDefaults()
	if errs := c.validate(); len(errs) > 0 {
		for _, e := range errs {
			e.File = name
		}
		return Config{}, joinErrors(errs)
	}
	return c, nil
}

func decodeError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var errs []*Error
		for i := range strict.Errors {
			line, _ := strict.Errors[i].Position()
			errs = append(errs, &Error{File: name, Line: line,
				Key: keyString(strict.Errors[i].Key()), Reason: "unknown key"})
		}
		return joinErrors(errs)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return &Error{File: name, Line: line, Key: keyString(de.Key()), Reason: de.Error()}
	}
	return &Error{File: name, Reason: err.Error()}
}

func keyString(k toml.Key) string {
	parts := make([]string, len(k))
	for i, p := range k {
		if strings.ContainsAny(p, ".\" /:@") || p == "" {
			p = fmt.Sprintf("%q", p)
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

func joinErrors(errs []*Error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// applyDefaults fills what the file left out. Runtimes are replaced, not
// merged: a file that names runtimes gets exactly those.
func (c *Config) applyDefaults() {
	d := Default()
	setIfEmpty(&c.Root, d.Root)
	setIfEmpty(&c.State, d.State)
	setIfEmpty(&c.Address, d.Address)
	setIfEmpty(&c.LogLevel, d.LogLevel)
	if len(c.Runtimes) == 0 {
		c.Runtimes = d.Runtimes
		setIfEmpty(&c.DefaultRuntime, d.DefaultRuntime)
	}
	if c.CDISpecDirs == nil {
		c.CDISpecDirs = d.CDISpecDirs
	}
	if c.Network.CNIBinDirs == nil {
		c.Network.CNIBinDirs = d.Network.CNIBinDirs
	}
	setIfEmpty(&c.Network.CNIConfDir, d.Network.CNIConfDir)
	setIfEmpty(&c.Streaming.Address, d.Streaming.Address)
	c.Images.ImageLimits = c.Images.ImageLimits.WithDefaults()
	setIfEmpty(&c.Streaming.StreamIdleTimeout, d.Streaming.StreamIdleTimeout)
	setIfEmpty(&c.Streaming.ConnectionIdleTimeout, d.Streaming.ConnectionIdleTimeout)
	if c.Streaming.MaxConnections == 0 {
		c.Streaming.MaxConnections = d.Streaming.MaxConnections
	}
	if c.Streaming.MaxSessions == 0 {
		c.Streaming.MaxSessions = d.Streaming.MaxSessions
	}
	setIfEmpty(&c.NRI.SocketPath, d.NRI.SocketPath)
	setIfEmpty(&c.NRI.PluginPath, d.NRI.PluginPath)
	setIfEmpty(&c.NRI.PluginConfigPath, d.NRI.PluginConfigPath)
	setIfEmpty(&c.NRI.PluginRegistrationTimeout, d.NRI.PluginRegistrationTimeout)
	setIfEmpty(&c.NRI.PluginRequestTimeout, d.NRI.PluginRequestTimeout)
}

func setIfEmpty(field *string, value string) {
	if *field == "" {
		*field = value
	}
}
