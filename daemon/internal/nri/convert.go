package nri

import (
	"encoding/json"
	"maps"
	"os"

	"github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/specgen"
)

// readSpec reads a task's spec from its bundle; an empty spec when the
// bundle is not (or no longer) there: events still name the task.
func readSpec(bundleDir string) *specs.Spec {
	var spec specs.Spec
	if b, err := os.ReadFile(bundle.ConfigPath(bundleDir)); err == nil {
		_ = json.Unmarshal(b, &spec)
	}
	return &spec
}

// podToNRI describes a pod to plugins: the CRI config's metadata, labels
// and annotations, and its pause task's namespaces, cgroup and resources.
func podToNRI(sb *pod.Sandbox) *api.PodSandbox {
	p := &api.PodSandbox{Id: sb.ID, RuntimeHandler: sb.Handler, Pid: sb.Pid, Ips: sb.IPs}
	cfg, err := sb.CRIConfig()
	if err != nil || sb.Config == nil {
		return p
	}
	m := cfg.GetMetadata()
	p.Name, p.Uid, p.Namespace = m.GetName(), m.GetUid(), m.GetNamespace()
	p.Labels = maps.Clone(cfg.GetLabels())
	spec := readSpec(sb.Bundle)
	p.Annotations = merged(cfg.GetAnnotations(), spec.Annotations)
	lx := cfg.GetLinux()
	p.Linux = &api.LinuxPodSandbox{CgroupParent: lx.GetCgroupParent(),
		PodOverhead: fromCRI(lx.GetOverhead()), PodResources: fromCRI(lx.GetResources())}
	if spec.Linux != nil {
		p.Linux.CgroupsPath = spec.Linux.CgroupsPath
		p.Linux.Namespaces = api.FromOCILinuxNamespaces(spec.Linux.Namespaces)
		p.Linux.Resources = api.FromOCILinuxResources(spec.Linux.Resources, nil)
	}
	return p
}

// containerToNRI describes a container to plugins from its record and
// its OCI spec.
func containerToNRI(c *container.Container, spec *specs.Spec) *api.Container {
	ct := &api.Container{Id: c.ID, PodSandboxId: c.SandboxID, State: stateToNRI(c.State), Pid: c.Pid,
		CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, ExitCode: c.ExitCode,
		StatusReason: c.Reason, StatusMessage: c.Message, Image: &api.Image{Name: c.Image}}
	var cfg runtimeapi.ContainerConfig
	if proto.Unmarshal(c.Config, &cfg) == nil {
		ct.Name = cfg.GetMetadata().GetName()
		ct.Labels = maps.Clone(cfg.GetLabels())
		ct.Annotations = merged(cfg.GetAnnotations(), spec.Annotations)
	}
	ct.Mounts = api.FromOCIMounts(spec.Mounts)
	ct.Hooks = api.FromOCIHooks(spec.Hooks)
	if p := spec.Process; p != nil {
		ct.Args, ct.Env = p.Args, p.Env
		ct.User = &api.User{Uid: p.User.UID, Gid: p.User.GID, AdditionalGids: p.User.AdditionalGids}
		for _, r := range p.Rlimits {
			ct.Rlimits = append(ct.Rlimits, &api.POSIXRlimit{Type: r.Type, Hard: r.Hard, Soft: r.Soft})
		}
	}
	if l := spec.Linux; l != nil {
		ct.Linux = &api.LinuxContainer{Namespaces: api.FromOCILinuxNamespaces(l.Namespaces),
			Devices: api.FromOCILinuxDevices(l.Devices), Resources: api.FromOCILinuxResources(l.Resources, nil),
			CgroupsPath: l.CgroupsPath, Sysctl: maps.Clone(l.Sysctl)}
		if p := spec.Process; p != nil {
			if p.OOMScoreAdj != nil {
				ct.Linux.OomScoreAdj = api.Int(*p.OOMScoreAdj)
			}
			ct.Linux.IoPriority = api.FromOCILinuxIOPriority(p.IOPriority)
		}
	}
	return ct
}

func stateToNRI(s container.State) api.ContainerState {
	switch s {
	case container.Creating, container.Created:
		return api.ContainerState_CONTAINER_CREATED
	case container.Running:
		return api.ContainerState_CONTAINER_RUNNING
	case container.Exited:
		return api.ContainerState_CONTAINER_STOPPED
	}
	return api.ContainerState_CONTAINER_UNKNOWN
}

// fromCRI converts CRI resources (a pod's overhead or resources).
func fromCRI(r *runtimeapi.LinuxContainerResources) *api.LinuxResources {
	if r == nil {
		return nil
	}
	res, err := specgen.UpdateResources(r)
	if err != nil {
		return nil
	}
	return api.FromOCILinuxResources(res, nil)
}

// merged is a copy of a with b's entries over it.
func merged(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
