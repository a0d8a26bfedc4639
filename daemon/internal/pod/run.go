package pod

import (
	"context"
	"fmt"
	"net"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/cni"
	"github.com/runlet/runlet/daemon/internal/idmap"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/sandboxfs"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/specgen"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/runtimeclass"
)

// run is the state of one RunPodSandbox: what is made so far and how to
// undo it.
type run struct {
	s   *Service
	cfg *runtimeapi.PodSandboxConfig
	h   *runtimeclass.Handler
	sb  *Sandbox
	// args and env are the pause process', from the sandbox image.
	args, env []string
	// holder holds a userns mode POD pod's user namespace until the pause
	// task joined it (nil for other pods).
	holder *idmap.Holder
	undo   []func(context.Context)
}

// Run starts a pod sandbox and returns its id. Bad input is
// InvalidArgument and leaves nothing; a name in use is AlreadyExists.
func (s *Service) Run(ctx context.Context, cfg *runtimeapi.PodSandboxConfig, handler string) (_ string, err error) {
	if err := validate(cfg); err != nil {
		return "", err
	}
	h, err := s.o.Handlers.Resolve(handler)
	if err != nil {
		return "", err
	}
	raw, err := marshalConfig(cfg)
	if err != nil {
		return "", err
	}
	r := &run{s: s, cfg: cfg, h: h, sb: &Sandbox{
		ID: names.NewID(), Name: name(cfg.GetMetadata()), Config: raw, Handler: h.Name,
		CreatedAt: now(), Image: s.o.SandboxImage,
	}}
	defer func() {
		if err != nil {
			r.rollback(context.WithoutCancel(ctx))
		}
	}()
	for _, step := range []func(context.Context) error{r.reserve, r.image, r.files, r.userns, r.network, r.bundle, r.startTask} {
		if err := step(ctx); err != nil {
			return "", err
		}
	}
	r.sb.State = Ready
	if err := s.save(r.sb); err != nil {
		return "", err
	}
	return r.sb.ID, nil
}

func validate(cfg *runtimeapi.PodSandboxConfig) error {
	m := cfg.GetMetadata()
	if m == nil || m.GetName() == "" || m.GetNamespace() == "" || m.GetUid() == "" {
		return fmt.Errorf("pod sandbox metadata needs a name, namespace and uid: %w", errdefs.ErrInvalidArgument)
	}
	return specgen.CheckSandbox(cfg)
}

func (r *run) push(f func(context.Context)) { r.undo = append(r.undo, f) }

func (r *run) rollback(ctx context.Context) {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i](ctx)
	}
}

func (r *run) reserve(ctx context.Context) error {
	if err := r.s.names.Reserve(r.sb.Name, r.sb.ID); err != nil {
		return err
	}
	r.push(func(context.Context) { _ = r.s.names.Release(r.sb.Name, r.sb.ID) })
	return nil
}

// files makes the pod's hostname, hosts, resolv.conf and shm.
func (r *run) files(ctx context.Context) error {
	dns := r.cfg.GetDnsConfig()
	o := sandboxfs.Options{Hostname: r.cfg.GetHostname(), HostIPC: nsMode(r.cfg).GetIpc() == runtimeapi.NamespaceMode_NODE}
	if dns != nil {
		o.DNS = &sandboxfs.DNS{Servers: dns.GetServers(), Searches: dns.GetSearches(), Options: dns.GetOptions()}
	}
	f, err := sandboxfs.Create(ctx, r.s.dir("sandboxes"), r.sb.ID, o)
	if err != nil {
		return err
	}
	r.sb.Dir = f.Dir
	r.push(func(ctx context.Context) { _ = f.Remove(ctx) })
	return nil
}

// network makes the pod's netns and runs CNI, unless it uses the host's.
func (r *run) network(ctx context.Context) error {
	if nsMode(r.cfg).GetNetwork() == runtimeapi.NamespaceMode_NODE {
		return nil
	}
	ns, err := r.newNetNS(ctx)
	if err != nil {
		return err
	}
	r.sb.NetNS = ns.Path()
	r.push(func(ctx context.Context) { _ = ns.Remove(ctx) })
	pn := podNetwork(r.sb, r.cfg)
	res, err := r.s.o.Network.Setup(ctx, pn)
	if err != nil {
		return err
	}
	r.push(func(ctx context.Context) { _ = r.s.o.Network.Teardown(ctx, pn) })
	r.sb.IPs = ipStrings(res.IPs)
	return nil
}

func podNetwork(sb *Sandbox, cfg *runtimeapi.PodSandboxConfig) cni.PodNetwork {
	m := cfg.GetMetadata()
	pn := cni.PodNetwork{ID: sb.ID, NetNSPath: sb.NetNS, Name: m.GetName(), Namespace: m.GetNamespace(),
		UID: m.GetUid(), Annotations: cfg.GetAnnotations()}
	for _, p := range cfg.GetPortMappings() {
		pn.PortMappings = append(pn.PortMappings, cni.PortMapping{Protocol: p.GetProtocol().String(),
			ContainerPort: p.GetContainerPort(), HostPort: p.GetHostPort(), HostIP: p.GetHostIp()})
	}
	return pn
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// bundle writes the pause task's bundle: its spec and rootfs mounts.
func (r *run) bundle(ctx context.Context) error {
	spec, err := specgen.SandboxSpec(r.cfg, specgen.SandboxOptions{
		ID: r.sb.ID, Args: r.args, ImageEnv: r.env, ImageName: r.sb.Image, NetNSPath: r.sb.NetNS,
		ResolvPath: join(r.sb.Dir, "resolv.conf"), ShmPath: shmPath(r.sb.Dir, r.cfg),
		UsernsPath: r.usernsPath(), IDMappedMounts: r.holder != nil,
	})
	if err != nil {
		return err
	}
	b, err := specgen.NewBundle(ctx, r.s.dir("bundles"), shimmgr.Namespace, r.sb.ID, spec)
	if err != nil {
		return err
	}
	r.sb.Bundle = b.Path
	r.push(func(ctx context.Context) { _ = b.Delete(ctx) })
	return r.stageUserns(b, spec)
}

// startTask starts the pod's shim and runs the pause task in it.
func (r *run) startTask(ctx context.Context) error {
	mounts, err := r.s.o.Snapshots.Prepare(ctx, r.sb.ID, r.sb.Image)
	if err != nil {
		return err
	}
	r.push(func(ctx context.Context) { _ = r.s.o.Snapshots.Remove(ctx, r.sb.ID) })
	if mounts, err = r.rootfs(ctx, mounts); err != nil {
		return err
	}
	p, err := r.s.o.Shims.StartPod(ctx, r.h, r.sb.ID, r.sb.Bundle)
	if err != nil {
		return err
	}
	r.push(func(ctx context.Context) { _ = r.s.o.Shims.Shutdown(ctx, r.sb.ID) })
	t := p.Task()
	created, err := t.Create(ctx, &task.CreateTaskRequest{Id: r.sb.ID, Bundle: r.sb.Bundle, Rootfs: mounts})
	if err != nil {
		return fmt.Errorf("create the sandbox task: %w", err)
	}
	r.push(func(ctx context.Context) { killAndDelete(ctx, t, r.sb.ID) })
	_ = r.holder.Close() // the pause holds the user namespace now
	if _, err := t.Start(ctx, &task.StartRequest{Id: r.sb.ID}); err != nil {
		return fmt.Errorf("start the sandbox task: %w", err)
	}
	r.sb.Pid = created.GetPid()
	r.sb.Shim = p.Record()
	return nil
}

func killAndDelete(ctx context.Context, t task.TaskService, id string) {
	_, _ = t.Kill(ctx, &task.KillRequest{Id: id, Signal: 9, All: true})
	_, _ = t.Wait(ctx, &task.WaitRequest{Id: id})
	_, _ = t.Delete(ctx, &task.DeleteRequest{Id: id})
}

func nsMode(cfg *runtimeapi.PodSandboxConfig) *runtimeapi.NamespaceOption {
	return cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
}
