package cni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
)

// configExtensions are the file names kubelet and containerd consider, all
// sorted together by name.
var configExtensions = []string{".conf", ".conflist", ".json"}

// netConfig is the network config list in use and the file it came from.
type netConfig struct {
	file string
	list *libcni.NetworkConfigList
}

// loadConfig reads the first config file of the conf dir. No dir, or no
// config file in it, is (nil, nil): loopback only. A file that does not
// parse is errdefs.ErrFailedPrecondition naming the file; later files are
// not tried, so the network a pod gets never depends on a broken file.
func (n *Network) loadConfig() (*netConfig, error) {
	if n.confDir == "" {
		return nil, nil
	}
	files, err := libcni.ConfFiles(n.confDir, configExtensions)
	if err != nil {
		return nil, withClass(fmt.Errorf("cni: read config dir %s: %w", n.confDir, err), errdefs.ErrFailedPrecondition)
	}
	if len(files) == 0 {
		return nil, nil
	}
	sort.Strings(files)
	list, err := parseConfigFile(files[0])
	if err != nil {
		return nil, withClass(fmt.Errorf("cni: config file %s: %w", files[0], err), errdefs.ErrFailedPrecondition)
	}
	return &netConfig{file: files[0], list: list}, nil
}

// parseConfigFile reads a config list (.conflist) or a single plugin config
// (.conf, .json), which becomes a list of one.
func parseConfigFile(file string) (*libcni.NetworkConfigList, error) {
	if filepath.Ext(file) == ".conflist" {
		return libcni.NetworkConfFromFile(file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	plugin, err := libcni.NetworkPluginConfFromBytes(b)
	if err != nil {
		return nil, err
	}
	return singlePluginList(plugin)
}

// singlePluginList wraps one plugin config into a list, as libcni's
// deprecated ConfListFromConf does.
func singlePluginList(plugin *libcni.PluginConfig) (*libcni.NetworkConfigList, error) {
	var raw map[string]any
	if err := json.Unmarshal(plugin.Bytes, &raw); err != nil {
		return nil, err
	}
	b, err := json.Marshal(map[string]any{
		"name":       plugin.Network.Name,
		"cniVersion": plugin.Network.CNIVersion,
		"plugins":    []any{raw},
	})
	if err != nil {
		return nil, err
	}
	return libcni.NetworkConfFromBytes(b)
}

// findPlugins checks that every plugin of the list is in the plugin dirs.
// A missing one is errdefs.ErrFailedPrecondition.
func (n *Network) findPlugins(cfg *netConfig) error {
	for _, p := range cfg.list.Plugins {
		if _, err := invoke.FindInPath(p.Network.Type, n.binDirs); err != nil {
			return withClass(fmt.Errorf("cni: plugin %q of %s not found in %v", p.Network.Type, cfg.file, n.binDirs), errdefs.ErrFailedPrecondition)
		}
	}
	return nil
}

// usableConfig is loadConfig followed by findPlugins.
func (n *Network) usableConfig() (*netConfig, error) {
	cfg, err := n.loadConfig()
	if err != nil || cfg == nil {
		return nil, err
	}
	if err := n.findPlugins(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
