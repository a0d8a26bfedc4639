package nri

import (
	"context"
	"log/slog"

	"github.com/containerd/nri/pkg/api"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/pod"
)

// RunPodSandbox tells plugins a pod is being made (its pause runs, it is
// not yet listed). A plugin's error fails the pod: plugins then hear it
// stopped and removed, and the caller undoes it.
func (n *NRI) RunPodSandbox(ctx context.Context, sb *pod.Sandbox) error {
	if !n.begin() {
		return nil
	}
	defer n.mu.Unlock()
	p := podToNRI(sb)
	err := n.a.RunPodSandbox(ctx, &api.RunPodSandboxRequest{Pod: p})
	n.state[sb.ID] = running
	if err != nil {
		n.removePod(ctx, p)
		return hookError("RunPodSandbox", err)
	}
	return nil
}

// StopPodSandbox tells plugins a pod stopped (its containers first),
// once. A plugin's error is logged: a pod can always be stopped.
func (n *NRI) StopPodSandbox(ctx context.Context, sb *pod.Sandbox) {
	if !n.begin() {
		return
	}
	defer n.mu.Unlock()
	n.stopPod(ctx, podToNRI(sb))
}

// RemovePodSandbox tells plugins a pod is gone (stopped first if they
// were not told), once. It also undoes a RunPodSandbox that failed after
// its hook. A plugin's error is logged.
func (n *NRI) RemovePodSandbox(ctx context.Context, sb *pod.Sandbox) {
	if !n.begin() {
		return
	}
	defer n.mu.Unlock()
	n.removePod(ctx, podToNRI(sb))
}

// UpdatePodSandbox tells plugins a pod's resources are about to change
// (CRI UpdatePodSandboxResources: overhead and resources as the request
// gives them); a plugin's error fails the update.
func (n *NRI) UpdatePodSandbox(ctx context.Context, sb *pod.Sandbox, overhead, resources *runtimeapi.LinuxContainerResources) error {
	if !n.begin() {
		return nil
	}
	defer n.mu.Unlock()
	if !n.needsStop(sb.ID) {
		return nil
	}
	_, err := n.a.UpdatePodSandbox(ctx, &api.UpdatePodSandboxRequest{Pod: podToNRI(sb),
		OverheadLinuxResources: fromCRI(overhead), LinuxResources: fromCRI(resources)})
	return hookError("UpdatePodSandbox", err)
}

// PostUpdatePodSandbox tells plugins a pod's resources changed; errors
// are logged.
func (n *NRI) PostUpdatePodSandbox(ctx context.Context, sb *pod.Sandbox) {
	if !n.begin() {
		return
	}
	defer n.mu.Unlock()
	if n.needsStop(sb.ID) {
		err := n.a.PostUpdatePodSandbox(ctx, &api.PostUpdatePodSandboxRequest{Pod: podToNRI(sb)})
		logFailed(err, "PostUpdatePodSandbox", sb.ID)
	}
}

// stopPod and removePod deliver under n.mu.
func (n *NRI) stopPod(ctx context.Context, p *api.PodSandbox) {
	if !n.needsStop(p.Id) {
		return
	}
	err := n.a.StopPodSandbox(ctx, &api.StopPodSandboxRequest{Pod: p})
	n.state[p.Id] = stopped
	logFailed(err, "StopPodSandbox", p.Id)
}

func (n *NRI) removePod(ctx context.Context, p *api.PodSandbox) {
	if !n.needsRemove(p.Id) {
		return
	}
	n.stopPod(ctx, p)
	err := n.a.RemovePodSandbox(ctx, &api.RemovePodSandboxRequest{Pod: p})
	delete(n.state, p.Id)
	logFailed(err, "RemovePodSandbox", p.Id)
}

func logFailed(err error, event, id string) {
	if err != nil {
		slog.Warn("NRI plugin failed an event", "event", event, "id", id, "error", err)
	}
}
