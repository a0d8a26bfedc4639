package nri

import (
	"context"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// CreateContainer asks plugins about a container being made and applies
// their adjustments to spec (before its bundle is written). A plugin's
// error, or an adjustment that cannot be applied, fails the container;
// the caller then undoes it with RemoveContainer. Updates and evictions
// of other containers the plugins ask for are applied after.
func (n *NRI) CreateContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container, spec *specs.Spec) error {
	if !n.begin() {
		return nil
	}
	resp, err := n.a.CreateContainer(ctx, &api.CreateContainerRequest{Pod: podToNRI(sb), Container: containerToNRI(c, spec)})
	n.state[c.ID] = created
	n.mu.Unlock()
	if err != nil {
		return hookError("CreateContainer", err)
	}
	n.evict(ctx, resp.GetEvict())
	n.applyLater(ctx, resp.GetUpdate())
	return adjust(spec, resp.GetAdjust(), n.devices)
}

// PostCreateContainer tells plugins a container was made; errors are
// logged.
func (n *NRI) PostCreateContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container) {
	n.notify(ctx, "PostCreateContainer", sb, c, func(p *api.PodSandbox, ct *api.Container) error {
		return n.a.PostCreateContainer(ctx, &api.PostCreateContainerRequest{Pod: p, Container: ct})
	})
}

// StartContainer tells plugins a container is about to start; a
// plugin's error fails the start.
func (n *NRI) StartContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container) error {
	if !n.begin() {
		return nil
	}
	defer n.mu.Unlock()
	err := n.a.StartContainer(ctx, &api.StartContainerRequest{Pod: podToNRI(sb), Container: containerToNRI(c, readSpec(c.Bundle))})
	if n.needsStop(c.ID) {
		n.state[c.ID] = running
	}
	return hookError("StartContainer", err)
}

// PostStartContainer tells plugins a container started; errors are
// logged.
func (n *NRI) PostStartContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container) {
	n.notify(ctx, "PostStartContainer", sb, c, func(p *api.PodSandbox, ct *api.Container) error {
		return n.a.PostStartContainer(ctx, &api.PostStartContainerRequest{Pod: p, Container: ct})
	})
}

// UpdateContainer asks plugins about new resources for a container and
// returns the resources to apply (theirs, or r). A plugin's error fails
// the update.
func (n *NRI) UpdateContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container, r *specs.LinuxResources) (*specs.LinuxResources, error) {
	if !n.begin() {
		return r, nil
	}
	resp, err := n.a.UpdateContainer(ctx, &api.UpdateContainerRequest{Pod: podToNRI(sb),
		Container: containerToNRI(c, readSpec(c.Bundle)), LinuxResources: api.FromOCILinuxResources(r, nil)})
	n.mu.Unlock()
	if err != nil {
		return nil, hookError("UpdateContainer", err)
	}
	n.evict(ctx, resp.GetEvict())
	updates := resp.GetUpdate()
	if len(updates) == 0 {
		return r, nil
	}
	own := updates[len(updates)-1] // the adaptation puts the container's own last
	n.applyLater(ctx, updates[:len(updates)-1])
	if res := own.GetLinux().GetResources(); res != nil && own.GetContainerId() == c.ID {
		return res.ToOCI(), nil
	}
	return r, nil
}

// PostUpdateContainer tells plugins a container's resources changed;
// errors are logged.
func (n *NRI) PostUpdateContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container) {
	n.notify(ctx, "PostUpdateContainer", sb, c, func(p *api.PodSandbox, ct *api.Container) error {
		return n.a.PostUpdateContainer(ctx, &api.PostUpdateContainerRequest{Pod: p, Container: ct})
	})
}

// StopContainer tells plugins a container stopped (StopContainer, or its
// exit), once; errors are logged.
func (n *NRI) StopContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container) {
	if !n.begin() {
		return
	}
	updates := n.stopContainer(ctx, podToNRI(sb), c)
	n.mu.Unlock()
	n.applyLater(ctx, updates)
}

// RemoveContainer tells plugins a container is gone (stopped first if
// they were not told), once; it also undoes a CreateContainer that failed
// after its hook. Errors are logged.
func (n *NRI) RemoveContainer(ctx context.Context, sb *pod.Sandbox, c *container.Container) {
	if !n.begin() {
		return
	}
	if !n.needsRemove(c.ID) {
		n.mu.Unlock()
		return
	}
	p := podToNRI(sb)
	updates := n.stopContainer(ctx, p, c)
	err := n.a.RemoveContainer(ctx, &api.RemoveContainerRequest{Pod: p, Container: containerToNRI(c, readSpec(c.Bundle))})
	delete(n.state, c.ID)
	n.mu.Unlock()
	logFailed(err, "RemoveContainer", c.ID)
	n.applyLater(ctx, updates)
}

// stopContainer delivers StopContainer under n.mu and returns the
// updates plugins asked for, to apply once n.mu is released.
func (n *NRI) stopContainer(ctx context.Context, p *api.PodSandbox, c *container.Container) []*api.ContainerUpdate {
	if !n.needsStop(c.ID) {
		return nil
	}
	resp, err := n.a.StopContainer(ctx, &api.StopContainerRequest{Pod: p, Container: containerToNRI(c, readSpec(c.Bundle))})
	n.state[c.ID] = stopped
	logFailed(err, "StopContainer", c.ID)
	return resp.GetUpdate()
}

// notify delivers an event whose errors are only logged, to a container
// plugins know.
func (n *NRI) notify(ctx context.Context, event string, sb *pod.Sandbox, c *container.Container, send func(*api.PodSandbox, *api.Container) error) {
	if !n.begin() {
		return
	}
	defer n.mu.Unlock()
	if !n.needsStop(c.ID) {
		return
	}
	logFailed(send(podToNRI(sb), containerToNRI(c, readSpec(c.Bundle))), event, c.ID)
}
