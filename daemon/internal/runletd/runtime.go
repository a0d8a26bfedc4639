package runletd

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/daemon/internal/cdi"
	"github.com/runlet/runlet/daemon/internal/checkpoint"
	"github.com/runlet/runlet/daemon/internal/cni"
	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/cri"
	"github.com/runlet/runlet/daemon/internal/nri"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/streaming"
	"github.com/runlet/runlet/proto/events"
	"github.com/runlet/runlet/proto/types"
	"github.com/runlet/runlet/runtimeclass"
)

// startRuntime builds the RuntimeService's parts: the named runtimes, the
// shim manager and its events socket, the pod network, and the pod
// service; then it reconnects to the shims of pods that were running.
func (d *Daemon) startRuntime(ctx context.Context) error {
	handlers, err := runtimeclass.New(d.cfg.DefaultRuntime, runtimes(d.cfg.Runtimes))
	if err != nil {
		return err
	}
	network, err := cni.New(d.cfg.Network.CNIBinDirs, d.cfg.Network.CNIConfDir)
	if err != nil {
		return fmt.Errorf("config: network: %w", err)
	}
	// Events can arrive before the pod service exists (from shims that
	// outlived a restart, some kept while runletd was down): until the
	// services are there they are refused as Unavailable, and the shims
	// send them again.
	var pods atomic.Pointer[pod.Service]
	var containersPtr atomic.Pointer[container.Service]
	shims, err := shimmgr.New(shimmgr.Config{
		StateDir:      filepath.Join(d.cfg.State, "shims"),
		DaemonAddress: d.cfg.Address,
		ShimLog:       shimLog{d.log},
		OnEvent: func(ctx context.Context, env *types.Envelope) error {
			return onEvent(ctx, pods.Load(), containersPtr.Load(), env)
		},
		OnShimExit: func(id string) {
			if p := pods.Load(); p != nil {
				p.ShimExited(id)
			}
		},
	})
	if err != nil {
		return err
	}
	hooks, err := nri.New(d.cfg.NRI, d.Version)
	if err != nil {
		shims.Close(ctx)
		return err
	}
	svc, err := pod.New(pod.Options{
		State: d.cfg.State, DB: d.db, Handlers: handlers, Shims: shims, Network: network,
		Images: d.Images, Snapshots: d.Snapshots, SandboxImage: d.SandboxImage(), NRI: hooks,
	})
	if err != nil {
		shims.Close(ctx)
		return err
	}
	if err := checkpoint.Sweep(filepath.Join(d.cfg.State, checkpoint.StagesDir)); err != nil {
		d.log.Warn("left-over checkpoint stages", "error", err)
	}
	copts := container.Options{
		State: d.cfg.State, Root: d.cfg.Root, DB: d.db, Pods: svc, Shims: shims, Images: d.Images, Snapshots: d.Snapshots,
		NRI: hooks,
	}
	if len(d.cfg.CDISpecDirs) > 0 {
		devices, err := cdi.New(d.cfg.CDISpecDirs)
		if err != nil {
			shims.Close(ctx)
			return fmt.Errorf("config: cdi_spec_dirs: %w", err)
		}
		copts.CDI = devices
		hooks.InjectDevicesWith(devices)
	}
	ctrs, err := container.New(copts)
	if err != nil {
		shims.Close(ctx)
		return err
	}
	svc.SetContainers(ctrs)
	containersPtr.Store(ctrs)
	pods.Store(svc)
	svc.Recover(ctx)
	ctrs.Recover(ctx)
	if err := ctx.Err(); err != nil {
		shims.Close(ctx)
		return fmt.Errorf("stopped while recovering: %w", err)
	}
	d.shims = shims
	// NRI starts on the recovered pods and containers, before CRI serves.
	hooks.Attach(nri.Services{Pods: svc, Containers: ctrs})
	if err := hooks.Start(); err != nil {
		shims.Close(ctx)
		return fmt.Errorf("config: nri: %w", err)
	}
	d.nri = hooks
	stream, err := startStreaming(d.cfg.Streaming, &streaming.Runtime{Containers: ctrs, Pods: svc}, d.log)
	if err != nil {
		hooks.Stop()
		shims.Close(ctx)
		return err
	}
	d.runtime = cri.Runtime{Pods: svc, Containers: ctrs, Network: network, Handlers: handlers, Streaming: stream,
		CNIConfDir: d.cfg.Network.CNIConfDir, CNIConfTemplate: d.cfg.Network.ConfTemplate}
	return nil
}

// startStreaming serves exec, attach and port-forward sessions as cfg says.
func startStreaming(cfg config.Streaming, rt *streaming.Runtime, log *slog.Logger) (*streaming.Server, error) {
	streamIdle, connIdle := cfg.Timeouts()
	srv, err := streaming.Listen(streaming.Options{Addr: cfg.Address, StreamIdleTimeout: streamIdle, ConnIdleTimeout: connIdle,
		MaxConns: cfg.MaxConnections, MaxSessions: cfg.MaxSessions,
		TLSCertFile: cfg.X509KeyPair.TLSCertFile, TLSKeyFile: cfg.X509KeyPair.TLSKeyFile}, rt)
	if err != nil {
		return nil, fmt.Errorf("config: [streaming]: %w", err)
	}
	go func() {
		if err := srv.Serve(); err != nil {
			log.Error("streaming server stopped", "error", err)
		}
	}()
	log.Info("serving streaming sessions", "address", srv.Addr())
	return srv, nil
}

func runtimes(in map[string]configRuntime) map[string]runtimeclass.Runtime {
	out := make(map[string]runtimeclass.Runtime, len(in))
	for name, rt := range in {
		out[name] = runtimeclass.Runtime{Shim: rt.Shim, Options: rt.Options, BootstrapParams: rt.Bootstrap == "params"}
	}
	return out
}

// onEvent routes a shim's event: a pause task's exit makes its pod not
// ready; a container's init exit and OOM kills are recorded.
func onEvent(ctx context.Context, pods *pod.Service, ctrs *container.Service, env *types.Envelope) error {
	if pods == nil || ctrs == nil {
		return fmt.Errorf("event %s: runletd is starting: %w", env.GetTopic(), errdefs.ErrUnavailable)
	}
	switch env.GetTopic() {
	case "/tasks/exit":
		onExit(ctx, pods, ctrs, env)
	case "/tasks/oom":
		var oom events.TaskOOM
		if proto.Unmarshal(env.GetEvent().GetValue(), &oom) == nil {
			ctrs.TaskOOM(oom.GetContainerId())
		}
	}
	return nil
}

func onExit(ctx context.Context, pods *pod.Service, ctrs *container.Service, env *types.Envelope) {
	var exit events.TaskExit
	if proto.Unmarshal(env.GetEvent().GetValue(), &exit) != nil || exit.GetId() != exit.GetContainerId() {
		return // an exec's exit
	}
	if _, err := pods.Get(exit.GetContainerId()); err == nil {
		pods.TaskExited(ctx, exit.GetContainerId())
		return
	}
	ctrs.TaskExited(exit.GetContainerId(), int32(exit.GetExitStatus()), exit.GetExitedAt().AsTime().UnixNano())
}

// shimLog turns the lines shims log into runletd's debug log records.
type shimLog struct{ log *slog.Logger }

func (l shimLog) Write(p []byte) (int, error) {
	l.log.Debug("shim", "line", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
