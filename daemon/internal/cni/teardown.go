package cni

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/libcni"

	"github.com/runlet/runlet/bundle"
)

// Teardown detaches the pod from its network (CNI DEL). It uses the config
// and arguments libcni cached at ADD, so a config changed or removed since
// Setup still tears down what Setup made. Without a cache entry (Setup never
// succeeded, or runletd died during ADD) it runs DEL with the current config,
// if that loads and its plugins are there; otherwise there is nothing to
// undo. It is idempotent and succeeds when the pod's namespace is already
// gone (CNI_NETNS is then empty, as the CNI spec allows for DEL).
func (n *Network) Teardown(ctx context.Context, pod PodNetwork) error {
	if err := bundle.ValidateID(pod.ID); err != nil {
		return fmt.Errorf("cni: pod id: %w", err)
	}
	release, err := n.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	delCtx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	nsPath := liveNetNS(pod.NetNSPath)
	cached, err := n.cachedConfigs(pod.ID)
	if err != nil {
		return err
	}
	for _, c := range cached {
		rt := n.runtimeConf(pod, nsPath)
		rt.Args, rt.CapabilityArgs = c.args, c.caps
		if err := n.del(delCtx, pod, c.cfg, rt); err != nil {
			return err
		}
	}
	if len(cached) > 0 {
		return nil
	}
	cfg, err := n.usableConfig()
	if err != nil || cfg == nil {
		// No ADD is on record and no config could run one: there is
		// nothing known to undo. Failing here would make a repeated
		// StopPodSandbox fail for as long as the config stays broken.
		return nil
	}
	return n.del(delCtx, pod, cfg, n.runtimeConf(pod, nsPath))
}

// del runs DEL of a whole config list, which also drops libcni's cache entry.
func (n *Network) del(ctx context.Context, pod PodNetwork, cfg *netConfig, rt *libcni.RuntimeConf) error {
	if err := n.cni.DelNetworkList(ctx, cfg.list, rt); err != nil {
		return pluginError(ctx, "DEL", pod, cfg, err)
	}
	return nil
}

// cachedAttachment is one network the pod was attached to by ADD, as cached.
type cachedAttachment struct {
	cfg  *netConfig
	args [][2]string
	caps map[string]any
}

// cachedConfigs returns the pod's attachments on this Network's interface
// from libcni's cache.
func (n *Network) cachedConfigs(id string) ([]cachedAttachment, error) {
	atts, err := n.cni.GetCachedAttachments(id)
	if err != nil {
		return nil, fmt.Errorf("cni: read cached attachments of pod %s: %w", id, err)
	}
	var out []cachedAttachment
	for _, a := range atts {
		if a.IfName != n.ifName {
			continue
		}
		list, err := libcni.NetworkConfFromBytes(a.Config)
		if err != nil {
			return nil, fmt.Errorf("cni: cached config of pod %s on network %q: %w", id, a.Network, err)
		}
		if len(list.Plugins) == 0 {
			// All its plugins came from <conf dir>/<network>/*.conf,
			// which the cache does not hold: DEL with the current
			// config instead of deleting nothing.
			continue
		}
		cfg := &netConfig{file: "cache of network " + a.Network, list: list}
		out = append(out, cachedAttachment{cfg: cfg, args: a.CniArgs, caps: a.CapabilityArgs})
	}
	return out, nil
}
