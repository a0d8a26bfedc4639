package container

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/failpoint"
	"github.com/runlet/runlet/daemon/internal/cio"
	"github.com/runlet/runlet/daemon/internal/keylock"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/specgen"
	"github.com/runlet/runlet/fifo"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

// create is the state of one CreateContainer: the record it builds.
type create struct {
	s      *Service
	cfg    *runtimeapi.ContainerConfig
	sbCfg  *runtimeapi.PodSandboxConfig
	sb     pod.Sandbox
	c      *Container
	image  specgen.ImageConfig
	mounts []*types.Mount
	io     *cio.IO
	// imageMounts are the host paths of the CRI image mounts, by mount;
	// extraMounts bind the image's declared volumes.
	imageMounts map[*runtimeapi.Mount]string
	extraMounts []*runtimeapi.Mount
	// hooked: NRI plugins were asked about the container (a failure
	// tells them it went).
	hooked bool
}

// Create creates a container in a ready pod and returns its id. A name in
// use is AlreadyExists, unless its container has the same config (a retry
// of a call that succeeded). Concurrent calls for one name share the first
// one's answer.
func (s *Service) Create(ctx context.Context, sandboxID string, cfg *runtimeapi.ContainerConfig) (string, error) {
	r, err := s.newCreate(sandboxID, cfg)
	if err != nil {
		return "", err
	}
	key := keylock.Key([]byte(r.c.Name), []byte(sandboxID), r.c.Config)
	return s.creates.Do(ctx, key, func(ctx context.Context) (string, error) { return s.create(ctx, r) })
}

// create makes the container: its record (state Creating) and name first,
// then each side effect; on failure abandon undoes what the record names.
func (s *Service) create(ctx context.Context, r *create) (_ string, err error) {
	// The pod stays as it is until the container is made or undone: a
	// RemovePodSandbox meanwhile would miss it, or pull its shim away.
	unlockPod, err := s.o.Pods.Lock(ctx, r.sb.ID)
	if err != nil {
		return "", err
	}
	defer unlockPod()
	if _, err := s.readyPod(r.sb.ID); err != nil {
		return "", err
	}
	// NRI plugins hear of the container before it is listed or created.
	unblock, err := s.hooks().BlockSync(ctx)
	if err != nil {
		return "", err
	}
	defer unblock()
	if err := s.claimName(ctx, r.c); err != nil {
		return s.retried(r.c, err)
	}
	defer s.built(r.c.ID)
	failpoint.Hit(failpoint.CtrReserved)
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			if r.io != nil {
				_ = r.io.Close()
			}
			if r.hooked {
				s.hooks().RemoveContainer(ctx, &r.sb, r.c)
			}
			_ = s.abandon(ctx, r.c)
		}
	}()
	for _, step := range []func(context.Context) error{r.resolveImage, r.rootfs, r.volumes, r.stdio, r.bundle, r.task} {
		if err := step(ctx); err != nil {
			return "", err
		}
	}
	r.c.State = Created
	if err := s.update(r.c.ID, func(c *Container) bool { *c = *r.c; return true }); err != nil {
		return "", err
	}
	s.keepIO(r.c.ID, r.io)
	s.hooks().PostCreateContainer(ctx, &r.sb, r.c)
	s.emit(r.c.ID, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	return r.c.ID, nil
}

// readyPod is pod id if it is ready: NotFound if there is none,
// FailedPrecondition if it is not ready. create asks again under the
// pod's lock, as the pod newCreate saw may have been stopped since.
func (s *Service) readyPod(id string) (pod.Sandbox, error) {
	sb, err := s.o.Pods.Get(id)
	if err != nil {
		return sb, err
	}
	if sb.State != pod.Ready {
		return sb, fmt.Errorf("pod sandbox %q is not ready: %w", id, errdefs.ErrFailedPrecondition)
	}
	return sb, nil
}

func (s *Service) newCreate(sandboxID string, cfg *runtimeapi.ContainerConfig) (*create, error) {
	if cfg.GetMetadata().GetName() == "" || cfg.GetImage().GetImage() == "" {
		return nil, fmt.Errorf("container config needs metadata.name and image: %w", errdefs.ErrInvalidArgument)
	}
	sb, err := s.readyPod(sandboxID)
	if err != nil {
		return nil, err
	}
	sbCfg, err := sb.CRIConfig()
	if err != nil {
		return nil, err
	}
	raw, err := marshal(cfg)
	if err != nil {
		return nil, err
	}
	id := names.NewID()
	c := &Container{ID: id, Name: name(cfg.GetMetadata(), sbCfg.GetMetadata()), SandboxID: sandboxID,
		Config: raw, Image: cfg.GetImage().GetImage(), CreatedAt: time.Now().UnixNano(), Terminal: cfg.GetTty(), State: Creating,
		Bundle: filepath.Join(s.dir("bundles"), shimmgr.Namespace, id), FIFODir: filepath.Join(s.dir("fifo"), id)}
	return &create{s: s, cfg: cfg, sbCfg: sbCfg, sb: sb, c: c}, nil
}

// rootfs prepares the container's overlay over its image's layers.
func (r *create) rootfs(ctx context.Context) error {
	m, err := r.s.o.Snapshots.Prepare(ctx, r.c.ID, r.c.ImageID)
	if err != nil {
		return err
	}
	r.mounts = m
	failpoint.Hit(failpoint.CtrSnapshot)
	return nil
}

// volumes prepares the CRI image mounts and the image's declared volumes.
func (r *create) volumes(ctx context.Context) error {
	if err := r.imageVolumes(ctx); err != nil {
		return err
	}
	if err := r.declaredVolumes(ctx); err != nil {
		return err
	}
	failpoint.Hit(failpoint.CtrVolumes)
	return nil
}

// stdio resolves the log path inside the pod's log directory and sets up
// the container's stdio (the shim writes the log when it can).
func (r *create) stdio(ctx context.Context) error {
	logPath, err := r.logPath()
	if err != nil {
		return err
	}
	r.c.LogPath = logPath
	h, err := r.s.o.Pods.Handler(r.sb.Handler)
	if err != nil {
		return err
	}
	io, err := cio.New(ctx, cio.Options{ID: r.c.ID, FIFODir: r.c.FIFODir, LogPath: logPath, LogDir: r.sbCfg.GetLogDirectory(),
		Stdin: r.cfg.GetStdin(), Terminal: r.cfg.GetTty(), ShimWritesLog: h.WritesCRILog(ctx)})
	if err != nil {
		return err
	}
	r.io = io
	r.c.Stdio = [3]string{io.Stdin, io.Stdout, io.Stderr}
	failpoint.Hit(failpoint.CtrStdio)
	return nil
}

// logPath confines the CRI log_path to the pod's log_directory ("" when
// either is unset: the output is discarded, as kubelet then expects).
func (r *create) logPath() (string, error) {
	dir, rel := r.sbCfg.GetLogDirectory(), r.cfg.GetLogPath()
	if dir == "" || rel == "" {
		return "", nil
	}
	p, err := fifo.ConfinedPath(dir, rel)
	if err != nil {
		return "", fmt.Errorf("log_path %q: %w", rel, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("log directory: %w", err)
	}
	return p, nil
}

// bundle writes the container's bundle with the spec specgen builds.
func (r *create) bundle(ctx context.Context) error {
	spec, err := specgen.ContainerSpec(r.cfg, r.sbCfg, r.withFeatures(ctx, specgen.ContainerOptions{
		ID: r.c.ID, SandboxID: r.sb.ID, SandboxPid: r.sb.Pid, Image: r.image, ImageName: r.c.Image,
		HostsPath: filepath.Join(r.sb.Dir, "hosts"), ResolvPath: filepath.Join(r.sb.Dir, "resolv.conf"),
		HostnamePath: filepath.Join(r.sb.Dir, "hostname"), ShmPath: shmPath(r.sb.Dir, r.sbCfg),
		UserLookup: r.userLookup(), ImageMount: r.imageMount, ExtraMounts: r.extraMounts, CDI: r.s.o.CDI,
	}))
	if err != nil {
		return err
	}
	r.hooked = true
	if err := r.s.hooks().CreateContainer(ctx, &r.sb, r.c, spec); err != nil {
		return err
	}
	b, err := r.newBundle(ctx, spec)
	if err != nil {
		return err
	}
	if b.Path != r.c.Bundle {
		return fmt.Errorf("bundle of %s made at %s, recorded at %s", r.c.ID, b.Path, r.c.Bundle)
	}
	failpoint.Hit(failpoint.CtrBundle)
	return nil
}

// task creates the container's task in its pod's shim.
func (r *create) task(ctx context.Context) error {
	p, err := r.s.o.Shims.Pod(r.sb.ID)
	if err != nil {
		return fmt.Errorf("pod %q has no shim: %w", r.sb.ID, errdefs.ErrFailedPrecondition)
	}
	t := p.Task()
	_, err = t.Create(ctx, &task.CreateTaskRequest{Id: r.c.ID, Bundle: r.c.Bundle, Rootfs: r.mounts,
		Stdin: r.c.Stdio[0], Stdout: r.c.Stdio[1], Stderr: r.c.Stdio[2], Terminal: r.c.Terminal})
	if err != nil {
		return fmt.Errorf("create the container task: %w", err)
	}
	failpoint.Hit(failpoint.CtrTaskCreated)
	return nil
}

func shmPath(dir string, cfg *runtimeapi.PodSandboxConfig) string {
	if cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtimeapi.NamespaceMode_NODE {
		return ""
	}
	return filepath.Join(dir, "shm")
}
