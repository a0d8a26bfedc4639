package nri

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/containerd/nri/pkg/adaptation"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/grpc/status"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// runtimeName is how runletd introduces itself to plugins.
const runtimeName = "runletd"

// Runtime is what NRI needs of runletd's pods and containers: the ones
// that exist (for a plugin's synchronisation) and the changes plugins
// may ask for.
type Runtime interface {
	// ListPods and ListContainers return the records that are made
	// (none still being created).
	ListPods() []pod.Sandbox
	ListContainers() []container.Container
	// UpdateContainer applies resources to a live container, without
	// NRI hooks.
	UpdateContainer(ctx context.Context, id string, r *specs.LinuxResources) error
	// EvictContainer stops a container a plugin asked to evict.
	EvictContainer(ctx context.Context, id string) error
}

// NRI relays pod and container events to NRI plugins. A nil *NRI, or one
// made with NRI disabled, does nothing and is always ready.
type NRI struct {
	a *adaptation.Adaptation
	// rt is set once by Attach, before Start.
	rt Runtime
	// devices injects the CDI devices plugins ask for; nil: CDI is off.
	// Set once by InjectDevicesWith, before Start.
	devices DeviceInjector

	// mu serialises the events (and a plugin's synchronisation), so
	// that each pod's and container's events reach plugins in order and
	// at most once.
	mu    sync.Mutex
	state map[string]state // guarded by mu; by pod or container id
	// synced is set by the first synchronisation (Start's): events
	// before it are not delivered (nothing heard of the runtime yet,
	// and Start holds the adaptation's lock while it waits for mu).
	synced bool // guarded by mu
}

// New makes the NRI adaptation from the [nri] table; with disable set it
// returns an NRI that does nothing. Nothing listens before Start.
func New(cfg config.NRI, version string) (*NRI, error) {
	n := &NRI{state: map[string]state{}}
	if cfg.Disable {
		return n, nil
	}
	reg, req := cfg.Timeouts()
	adaptation.SetPluginRegistrationTimeout(reg)
	adaptation.SetPluginRequestTimeout(req)
	opts := []adaptation.Option{
		adaptation.WithSocketPath(cfg.SocketPath),
		adaptation.WithPluginPath(cfg.PluginPath),
		adaptation.WithPluginConfigPath(cfg.PluginConfigPath),
	}
	if cfg.DisableConnections {
		opts = append(opts, adaptation.WithDisabledExternalConnections())
	}
	a, err := adaptation.New(runtimeName, version, n.synchronize, n.updateFromPlugin, opts...)
	if err != nil {
		return nil, fmt.Errorf("nri: %w", err)
	}
	n.a = a
	return n, nil
}

// Attach gives NRI the runtime it reports on and changes.
func (n *NRI) Attach(rt Runtime) {
	if n != nil {
		n.rt = rt
	}
}

// InjectDevicesWith has the CDI devices plugins' adjustments name
// injected by d (without it they are refused as Unimplemented).
func (n *NRI) InjectDevicesWith(d DeviceInjector) {
	if n != nil {
		n.devices = d
	}
}

// Start starts the plugins of plugin_path, synchronises them, and
// listens for external plugins on socket_path.
func (n *NRI) Start() error {
	if n.off() {
		return nil
	}
	if n.rt == nil {
		return fmt.Errorf("nri: started before a runtime was attached: %w", errdefs.ErrFailedPrecondition)
	}
	if err := n.a.Start(); err != nil {
		return fmt.Errorf("nri: %w", err)
	}
	slog.Info("NRI started")
	return nil
}

// Stop stops the plugins runletd started and closes the socket; pods
// and containers are left alone.
func (n *NRI) Stop() {
	if !n.off() {
		n.a.Stop()
	}
}

func (n *NRI) off() bool { return n == nil || n.a == nil }

// begin takes n.mu for an event; it returns false, not holding n.mu,
// when the event is not to be delivered: NRI is off or not started.
func (n *NRI) begin() bool {
	if n.off() {
		return false
	}
	n.mu.Lock()
	if !n.synced {
		n.mu.Unlock()
		return false
	}
	return true
}

// BlockSync keeps plugins from being synchronised until the returned
// function is called: a pod or container that is being made when a
// plugin connects then reaches it either in the synchronisation (made
// first) or as an event (made after), never neither. It waits for a
// synchronisation under way (bounded by the plugin request timeout) or
// ctx. It must be taken before, never while, an event is delivered.
func (n *NRI) BlockSync(ctx context.Context) (func(), error) {
	if n.off() {
		return func() {}, nil
	}
	got := make(chan *adaptation.PluginSyncBlock, 1)
	go func() { got <- n.a.BlockPluginSync() }()
	select {
	case b := <-got:
		return b.Unblock, nil
	case <-ctx.Done():
		go func() { (<-got).Unblock() }() // released as soon as it is had
		return nil, fmt.Errorf("wait for an NRI plugin's synchronisation: %w", ctx.Err())
	}
}

// hookError turns a plugin's refusal into runletd's error: the plugin's
// own words, classified FailedPrecondition (no gRPC status of the plugin
// connection leaks to the CRI client).
func hookError(event string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if st, ok := status.FromError(err); ok {
		msg = st.Message()
	}
	return fmt.Errorf("NRI plugin refused %s: %s: %w", event, msg, errdefs.ErrFailedPrecondition)
}
