package cni

import (
	"context"
	"fmt"
)

// Reasons a Status gives.
const (
	// ReasonLoopbackOnly: no config in the conf dir; pods get loopback
	// only, which runletd supports, so the network is ready.
	ReasonLoopbackOnly = "LoopbackOnly"
	// ReasonConfigInvalid: the first config file does not load.
	ReasonConfigInvalid = "CNIConfigInvalid"
	// ReasonPluginNotFound: a plugin of the config is not in the plugin dirs.
	ReasonPluginNotFound = "CNIPluginNotFound"
	// ReasonPluginNotReady: a plugin answered STATUS (CNI 1.1) with an error.
	ReasonPluginNotReady = "CNIPluginNotReady"
)

// Status is the network's readiness, for the CRI NetworkReady condition.
type Status struct {
	Ready   bool
	Reason  string // "" when ready with a CNI network
	Message string
	// Network and ConfigFile name the config in use, when one loads.
	Network    string
	ConfigFile string
}

// Status reports whether Setup would work now. No config is ready (reason
// LoopbackOnly): pods then run with loopback only, which is runletd's
// documented default. A broken config, a missing plugin, or a plugin whose
// STATUS (configs of CNI 1.1.0 and later) fails is not ready.
func (n *Network) Status(ctx context.Context) Status {
	cfg, err := n.loadConfig()
	if err != nil {
		return Status{Reason: ReasonConfigInvalid, Message: err.Error()}
	}
	if cfg == nil {
		return Status{Ready: true, Reason: ReasonLoopbackOnly, Message: n.loopbackOnlyMessage()}
	}
	st := Status{Network: cfg.list.Name, ConfigFile: cfg.file}
	if err := n.findPlugins(cfg); err != nil {
		st.Reason, st.Message = ReasonPluginNotFound, err.Error()
		return st
	}
	statusCtx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if err := n.cni.GetStatusNetworkList(statusCtx, cfg.list); err != nil {
		st.Reason, st.Message = ReasonPluginNotReady, fmt.Sprintf("cni: STATUS of network %q (%s): %v", cfg.list.Name, cfg.file, err)
		return st
	}
	st.Ready = true
	return st
}

func (n *Network) loopbackOnlyMessage() string {
	if n.confDir == "" {
		return "no CNI config dir configured: pods get loopback only"
	}
	return fmt.Sprintf("no CNI config (*.conf, *.conflist, *.json) in %s: pods get loopback only", n.confDir)
}
