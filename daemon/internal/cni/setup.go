package cni

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/containerd/errdefs"
)

// Result is what Setup gave the pod.
type Result struct {
	// IPs are the addresses of the pod's interface, IPv4 first: IPs[0] is
	// the CRI PodSandboxStatus IP, the rest its additional IPs. Empty for a
	// loopback-only pod.
	IPs []net.IP
	// Network is the CNI network's name; "" for a loopback-only pod.
	Network string
	// ConfigFile is the config the network came from.
	ConfigFile string
}

// Setup attaches the pod's namespace to the network (CNI ADD of the whole
// config list). With no config the pod keeps loopback only and Result.IPs is
// empty. A config that does not load, or a plugin missing from the plugin
// dirs, is errdefs.ErrFailedPrecondition. NetNSPath must be a live network
// namespace (errdefs.ErrNotFound when it is gone). A pod already set up (and
// not torn down) is errdefs.ErrAlreadyExists, without touching its network.
// When a plugin fails, Setup runs DEL before returning so that nothing the
// earlier plugins made is left behind.
func (n *Network) Setup(ctx context.Context, pod PodNetwork) (*Result, error) {
	if err := pod.validate(); err != nil {
		return nil, err
	}
	cfg, err := n.usableConfig()
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return &Result{}, nil
	}
	if err := checkPodNetNS(pod); err != nil {
		return nil, err
	}
	release, err := n.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := n.checkNotAttached(pod.ID); err != nil {
		return nil, err
	}
	rt := n.runtimeConf(pod, pod.NetNSPath)
	addCtx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	res, err := n.cni.AddNetworkList(addCtx, cfg.list, rt)
	if err != nil {
		err = pluginError(addCtx, "ADD", pod, cfg, err)
		return nil, errors.Join(err, n.undoFailedAdd(ctx, pod, cfg))
	}
	ips, err := podIPs(res, n.ifName)
	if err != nil {
		err = pluginError(addCtx, "ADD", pod, cfg, err)
		return nil, errors.Join(err, n.undoFailedAdd(ctx, pod, cfg))
	}
	return &Result{IPs: ips, Network: cfg.list.Name, ConfigFile: cfg.file}, nil
}

// undoFailedAdd runs DEL after a failed ADD, also when ctx is cancelled: it
// gets its own plugin timeout so a cancelled request does not leak state.
func (n *Network) undoFailedAdd(ctx context.Context, pod PodNetwork, cfg *netConfig) error {
	delCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.timeout)
	defer cancel()
	return n.del(delCtx, pod, cfg, n.runtimeConf(pod, pod.NetNSPath))
}

// checkNotAttached refuses a second ADD for a pod: the plugins would fail on
// the existing interface and the undo would then tear down the first one.
func (n *Network) checkNotAttached(id string) error {
	cached, err := n.cachedConfigs(id)
	if err != nil {
		return err
	}
	if len(cached) > 0 {
		return fmt.Errorf("cni: pod %s is already attached to network %q: %w", id, cached[0].cfg.list.Name, errdefs.ErrAlreadyExists)
	}
	return nil
}
