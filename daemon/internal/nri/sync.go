package nri

import (
	"context"
	"log/slog"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/containerd/nri/pkg/api"

	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// synchronize hands a plugin (or, at Start, the plugins of plugin_path)
// the pods and containers that exist, and applies the updates it asks
// for. The adaptation calls it with pod and container creation blocked
// (BlockSync), so what is listed is everything plugins have not heard of
// as an event. Exited containers are not listed (containerd's rule) but
// their state is kept, so that their removal still reaches plugins.
// Events wait (n.mu) until the plugin has the list, so none falls
// between the list and the plugin's first event.
func (n *NRI) synchronize(ctx context.Context, cb adaptation.SyncCB) error {
	n.mu.Lock()
	pods, ctrs := n.listed()
	n.synced = true
	updates, err := cb(ctx, pods, ctrs)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	n.applyUpdates(ctx, updates)
	return nil
}

// listed converts the runtime's pods and containers and records the
// state plugins now know them in. The caller holds n.mu.
func (n *NRI) listed() ([]*api.PodSandbox, []*api.Container) {
	var pods []*api.PodSandbox
	byID := map[string]*pod.Sandbox{}
	for _, sb := range n.rt.ListPods() {
		sb := sb
		byID[sb.ID] = &sb
		pods = append(pods, podToNRI(&sb))
		if sb.State == pod.Ready {
			n.state[sb.ID] = running
		} else {
			n.state[sb.ID] = stopped
		}
	}
	var ctrs []*api.Container
	for _, c := range n.rt.ListContainers() {
		c := c
		switch c.State {
		case container.Created:
			n.state[c.ID] = created
		case container.Running:
			n.state[c.ID] = running
		default:
			n.state[c.ID] = stopped
			continue
		}
		ctrs = append(ctrs, containerToNRI(&c, readSpec(c.Bundle)))
	}
	return pods, ctrs
}

// updateFromPlugin applies updates a plugin asked for on its own and
// returns those that failed.
func (n *NRI) updateFromPlugin(ctx context.Context, updates []*api.ContainerUpdate) ([]*api.ContainerUpdate, error) {
	return n.applyUpdates(ctx, updates), nil
}

// applyUpdates applies container updates through the container service
// (never under n.mu: an update takes the container's lock, which a
// Stop delivering its event holds); it returns the failed ones. A failure
// not marked ignorable is logged.
func (n *NRI) applyUpdates(ctx context.Context, updates []*api.ContainerUpdate) []*api.ContainerUpdate {
	var failed []*api.ContainerUpdate
	for _, u := range updates {
		res := u.GetLinux().GetResources()
		if u == nil || res == nil {
			continue
		}
		if err := n.rt.UpdateContainer(ctx, u.GetContainerId(), res.ToOCI()); err != nil {
			failed = append(failed, u)
			if !u.GetIgnoreFailure() {
				slog.Warn("NRI plugin's container update failed", "id", u.GetContainerId(), "error", err)
			}
		}
	}
	return failed
}

// applyLater applies the updates of other containers a plugin's answer to
// a hook asked for, off the caller: the call that asked (a Stop, an
// Update, a Create) holds its own container's lock, and two such calls
// whose answers named each other's containers would wait for each other.
func (n *NRI) applyLater(ctx context.Context, updates []*api.ContainerUpdate) {
	if len(updates) > 0 {
		go n.applyUpdates(context.WithoutCancel(ctx), updates)
	}
}

// evict stops the containers plugins asked to evict, off the caller: the
// call that asked the plugins (an update) may hold the lock of the very
// container to stop.
func (n *NRI) evict(ctx context.Context, evictions []*api.ContainerEviction) {
	if len(evictions) > 0 {
		go n.stopEvicted(context.WithoutCancel(ctx), evictions)
	}
}

func (n *NRI) stopEvicted(ctx context.Context, evictions []*api.ContainerEviction) {
	for _, e := range evictions {
		slog.Info("NRI plugin evicts a container", "id", e.GetContainerId(), "reason", e.GetReason())
		if err := n.rt.EvictContainer(ctx, e.GetContainerId()); err != nil {
			slog.Warn("evict a container", "id", e.GetContainerId(), "error", err)
		}
	}
}
