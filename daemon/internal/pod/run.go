package pod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/failpoint"
	"github.com/runlet/runlet/daemon/internal/cni"
	"github.com/runlet/runlet/daemon/internal/idmap"
	"github.com/runlet/runlet/daemon/internal/keylock"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/sandboxfs"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/specgen"
	task "github.com/runlet/runlet/proto/task/v2"
	tasktypes "github.com/runlet/runlet/proto/types/task"
	"github.com/runlet/runlet/runtimeclass"
)

// run is the state of one RunPodSandbox: the record it builds.
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
	// task is the pod's task service once its shim started.
	task task.TaskService
}

// Run starts a pod sandbox and returns its id. Bad input is
// InvalidArgument and leaves nothing; a name in use is AlreadyExists,
// unless its pod is ready with the same config (a retry of a call that
// succeeded). Concurrent identical calls share the first one's answer.
func (s *Service) Run(ctx context.Context, cfg *runtimeapi.PodSandboxConfig, handler string) (string, error) {
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
	key := keylock.Key([]byte(name(cfg.GetMetadata())), []byte(h.Name), raw)
	return s.runs.Do(ctx, key, func(ctx context.Context) (string, error) { return s.run(ctx, cfg, raw, key, h) })
}

// run makes the pod: its record (state Creating) and name first, then
// each side effect; on failure Abandon undoes what the record names.
func (s *Service) run(ctx context.Context, cfg *runtimeapi.PodSandboxConfig, raw []byte, key string, h *runtimeclass.Handler) (_ string, err error) {
	r := &run{s: s, cfg: cfg, h: h, sb: s.newRecord(cfg, raw, h)}
	r.sb.RunKey = key
	if err := s.claimName(ctx, r.sb); err != nil {
		return s.retried(r.sb, err)
	}
	defer s.built(r.sb.ID)
	failpoint.Hit(failpoint.PodReserved)
	hooked := false
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = r.holder.Close()
			if hooked {
				s.hooks().RemovePodSandbox(ctx, r.sb)
			}
			s.abandon(ctx, r.sb)
		}
	}()
	for _, step := range []func(context.Context) error{r.image, r.files, r.userns, r.network, r.bundle, r.startTask} {
		if err := step(ctx); err != nil {
			return "", err
		}
	}
	// NRI plugins hear of the pod before it is listed or ready.
	unblock, err := s.hooks().BlockSync(ctx)
	if err != nil {
		return "", err
	}
	defer unblock()
	if err := s.hooks().RunPodSandbox(ctx, r.sb); err != nil {
		return "", err
	}
	hooked = true
	r.sb.State = Ready
	if err := s.update(r.sb.ID, func(sb *Sandbox) bool { *sb = *r.sb; return true }); err != nil {
		return "", err
	}
	r.checkPause(ctx)
	return r.sb.ID, nil
}

// checkPause marks the new pod not ready if its pause already exited: an
// exit reported while the pod was still being created found no ready pod
// to change (a pause that dies at once: a bad image, seccomp, OOM), and
// kubelet must see it to make the pod again.
func (r *run) checkPause(ctx context.Context) {
	st, err := r.task.State(ctx, &task.StateRequest{Id: r.sb.ID})
	if errdefs.IsNotFound(err) || errors.Is(err, ttrpc.ErrClosed) || (err == nil && st.GetStatus() == tasktypes.Status_STOPPED) {
		r.s.notReady(r.sb.ID)
	}
}

// newRecord is a new pod's record with every path it will use, so that
// what a crash leaves can be found from the record alone.
func (s *Service) newRecord(cfg *runtimeapi.PodSandboxConfig, raw []byte, h *runtimeclass.Handler) *Sandbox {
	id := names.NewID()
	sb := &Sandbox{
		ID: id, Name: name(cfg.GetMetadata()), Config: raw, Handler: h.Name, State: Creating,
		CreatedAt: time.Now().UnixNano(), Image: s.o.SandboxImage, Dir: filepath.Join(s.dir("sandboxes"), id),
		Bundle: filepath.Join(s.dir("bundles"), shimmgr.Namespace, id),
	}
	if nsMode(cfg).GetNetwork() != runtimeapi.NamespaceMode_NODE {
		sb.NetNS = filepath.Join(s.dir("netns"), id)
	}
	return sb
}

func validate(cfg *runtimeapi.PodSandboxConfig) error {
	m := cfg.GetMetadata()
	if m == nil || m.GetName() == "" || m.GetNamespace() == "" || m.GetUid() == "" {
		return fmt.Errorf("pod sandbox metadata needs a name, namespace and uid: %w", errdefs.ErrInvalidArgument)
	}
	return specgen.CheckSandbox(cfg)
}

// files makes the pod's hostname, hosts, resolv.conf and shm.
func (r *run) files(ctx context.Context) error {
	dns := r.cfg.GetDnsConfig()
	o := sandboxfs.Options{Hostname: r.cfg.GetHostname(), HostIPC: nsMode(r.cfg).GetIpc() == runtimeapi.NamespaceMode_NODE}
	if dns != nil {
		o.DNS = &sandboxfs.DNS{Servers: dns.GetServers(), Searches: dns.GetSearches(), Options: dns.GetOptions()}
	}
	if _, err := sandboxfs.Create(ctx, r.s.dir("sandboxes"), r.sb.ID, o); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodFiles)
	return nil
}

// network makes the pod's netns and runs CNI, unless it uses the host's.
func (r *run) network(ctx context.Context) error {
	if nsMode(r.cfg).GetNetwork() == runtimeapi.NamespaceMode_NODE {
		return nil
	}
	if _, err := r.newNetNS(ctx); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodNetNS)
	res, err := r.s.o.Network.Setup(ctx, podNetwork(r.sb, r.cfg))
	if err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodCNI)
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
	if b.Path != r.sb.Bundle {
		return fmt.Errorf("bundle of %s made at %s, recorded at %s", r.sb.ID, b.Path, r.sb.Bundle)
	}
	if err := r.stageUserns(b, spec); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodBundle)
	return nil
}

// startTask starts the pod's shim and runs the pause task in it.
func (r *run) startTask(ctx context.Context) error {
	mounts, err := r.s.o.Snapshots.Prepare(ctx, r.sb.ID, r.sb.Image)
	if err != nil {
		return err
	}
	if mounts, err = r.rootfs(ctx, mounts); err != nil {
		return err
	}
	failpoint.Hit(failpoint.PodSnapshot)
	p, err := r.s.o.Shims.StartPod(ctx, r.h, r.sb.ID, r.sb.Bundle)
	if err != nil {
		return err
	}
	r.sb.Shim = p.Record()
	failpoint.Hit(failpoint.PodShim)
	t := p.Task()
	r.task = t
	created, err := t.Create(ctx, &task.CreateTaskRequest{Id: r.sb.ID, Bundle: r.sb.Bundle, Rootfs: mounts})
	if err != nil {
		return fmt.Errorf("create the sandbox task: %w", err)
	}
	failpoint.Hit(failpoint.PodTaskCreated)
	_ = r.holder.Close() // the pause holds the user namespace now
	if _, err := t.Start(ctx, &task.StartRequest{Id: r.sb.ID}); err != nil {
		return fmt.Errorf("start the sandbox task: %w", err)
	}
	failpoint.Hit(failpoint.PodTaskStarted)
	r.sb.Pid = created.GetPid()
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
