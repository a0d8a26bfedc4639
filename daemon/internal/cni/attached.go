package cni

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/libcni"

	"github.com/runlet/runlet/bundle"
)

// Attached returns what Setup gave the pod, from libcni's cache, so a
// restarted runletd can report the IPs of pods it set up before. A pod that
// is not attached (never set up, torn down, or loopback-only) is
// (nil, false, nil).
func (n *Network) Attached(ctx context.Context, id string) (*Result, bool, error) {
	if err := bundle.ValidateID(id); err != nil {
		return nil, false, fmt.Errorf("cni: pod id: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("cni: pod %s: %w", id, err)
	}
	cached, err := n.cachedConfigs(id)
	if err != nil || len(cached) == 0 {
		return nil, false, err
	}
	cfg := cached[0].cfg
	res, err := n.cni.GetNetworkListCachedResult(cfg.list, &libcni.RuntimeConf{ContainerID: id, IfName: n.ifName})
	if err != nil {
		return nil, false, fmt.Errorf("cni: cached result of pod %s on network %q: %w", id, cfg.list.Name, err)
	}
	if res == nil {
		return nil, false, nil
	}
	ips, err := podIPs(res, n.ifName)
	if err != nil {
		return nil, false, fmt.Errorf("cni: cached result of pod %s on network %q: %w", id, cfg.list.Name, err)
	}
	return &Result{IPs: ips, Network: cfg.list.Name}, true, nil
}
