package shimmgr

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/shim"
	"github.com/runlet/runlet/proto/types"
	"github.com/runlet/runlet/runtimeclass"
)

// Namespace is the containerd namespace runletd's tasks live in, as
// containerd's CRI uses "k8s.io".
const Namespace = "k8s.io"

// Config configures a Manager.
type Config struct {
	// StateDir holds the events socket (0700).
	StateDir string
	// DaemonAddress is runletd's CRI socket, passed to shims as -address.
	DaemonAddress string
	// OnEvent receives every event a shim publishes; an Unavailable error
	// makes the shim keep the event and send it again.
	OnEvent func(ctx context.Context, env *types.Envelope) error
	// OnShimExit is called once when a pod's shim goes away (it died, or
	// shut down after its last task): the pod's tasks are then gone.
	OnShimExit func(sandboxID string)
	// ShimLog receives the lines shims write to their log FIFO; nil
	// discards them.
	ShimLog io.Writer
}

// Manager tracks the shim of each pod.
type Manager struct {
	cfg    Config
	events *shim.EventsServer

	mu   sync.Mutex
	pods map[string]*Pod // guarded by mu; by sandbox id
}

// New starts serving the events socket at StateDir/events.sock.
func New(cfg Config) (*Manager, error) {
	m := &Manager{cfg: cfg, pods: map[string]*Pod{}}
	ev, err := shim.ServeEvents(filepath.Join(cfg.StateDir, "events.sock"), m.forward)
	if err != nil {
		return nil, err
	}
	m.events = ev
	return m, nil
}

// Close stops serving events; shims keep running.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	for _, p := range m.pods {
		p.shim.Close()
	}
	m.mu.Unlock()
	return m.events.Close(ctx)
}

func (m *Manager) forward(ctx context.Context, env *types.Envelope) error {
	if m.cfg.OnEvent == nil {
		return nil
	}
	return m.cfg.OnEvent(ctx, env)
}

// Pod returns the shim of a pod, NotFound when it has none.
func (m *Manager) Pod(sandboxID string) (*Pod, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pods[sandboxID]
	if !ok {
		return nil, fmt.Errorf("no shim for pod %q: %w", sandboxID, errdefs.ErrNotFound)
	}
	return p, nil
}

// launchConfig is how the pod's shim is started for one task's bundle.
func (m *Manager) launchConfig(h *runtimeclass.Handler, id, bundle string) shim.Config {
	bootstrap := shim.BootstrapOptions
	if h.BootstrapParams {
		bootstrap = shim.BootstrapParams
	}
	return shim.Config{
		Binary:        h.Shim,
		ID:            id,
		Namespace:     Namespace,
		Bundle:        bundle,
		DaemonAddress: m.cfg.DaemonAddress,
		EventsAddress: m.events.Address,
		Options:       h.Options,
		Bootstrap:     bootstrap,
		MaxVersion:    3,
		Log:           m.cfg.ShimLog,
	}
}
