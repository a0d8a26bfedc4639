package container

import (
	"context"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/daemon/internal/pod"
)

// Hooks tell NRI plugins about containers (runletd gives an *nri.NRI;
// nil Options.NRI: no plugins). The events that may refuse return an
// error; the others cannot fail the call.
type Hooks interface {
	// BlockSync keeps a plugin that connects from being synchronised
	// until the returned function runs: a container made meanwhile
	// reaches it as an event or in the synchronisation, never neither.
	BlockSync(ctx context.Context) (func(), error)
	// CreateContainer applies the plugins' adjustments to spec.
	CreateContainer(ctx context.Context, sb *pod.Sandbox, c *Container, spec *specs.Spec) error
	PostCreateContainer(ctx context.Context, sb *pod.Sandbox, c *Container)
	StartContainer(ctx context.Context, sb *pod.Sandbox, c *Container) error
	PostStartContainer(ctx context.Context, sb *pod.Sandbox, c *Container)
	// UpdateContainer returns the resources to apply.
	UpdateContainer(ctx context.Context, sb *pod.Sandbox, c *Container, r *specs.LinuxResources) (*specs.LinuxResources, error)
	PostUpdateContainer(ctx context.Context, sb *pod.Sandbox, c *Container)
	// StopContainer is told once, by StopContainer or the exit.
	StopContainer(ctx context.Context, sb *pod.Sandbox, c *Container)
	// RemoveContainer also undoes a CreateContainer.
	RemoveContainer(ctx context.Context, sb *pod.Sandbox, c *Container)
}

func (s *Service) hooks() Hooks {
	if s.o.NRI == nil {
		return noHooks{}
	}
	return s.o.NRI
}

// podOf is the record of a container's pod, or one naming only its id
// when the pod is not found (hooks still name it).
func (s *Service) podOf(c *Container) *pod.Sandbox {
	sb, err := s.o.Pods.Get(c.SandboxID)
	if err != nil {
		return &pod.Sandbox{ID: c.SandboxID}
	}
	return &sb
}

// nriStopped tells NRI plugins container id stopped (a no-op when they
// were told).
func (s *Service) nriStopped(ctx context.Context, id string) {
	if c, err := s.record(id); err == nil {
		s.hooks().StopContainer(ctx, s.podOf(&c), &c)
	}
}

// Records returns copies of the containers that are made (none still
// being created), for NRI's synchronisation of a plugin.
func (s *Service) Records() []Container {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Container, 0, len(s.ctrs))
	for _, c := range s.ctrs {
		if c.State != Creating {
			out = append(out, *c)
		}
	}
	return out
}

type noHooks struct{}

func (noHooks) BlockSync(context.Context) (func(), error) { return func() {}, nil }
func (noHooks) CreateContainer(context.Context, *pod.Sandbox, *Container, *specs.Spec) error {
	return nil
}
func (noHooks) PostCreateContainer(context.Context, *pod.Sandbox, *Container)  {}
func (noHooks) StartContainer(context.Context, *pod.Sandbox, *Container) error { return nil }
func (noHooks) PostStartContainer(context.Context, *pod.Sandbox, *Container)   {}
func (noHooks) PostUpdateContainer(context.Context, *pod.Sandbox, *Container)  {}
func (noHooks) StopContainer(context.Context, *pod.Sandbox, *Container)        {}
func (noHooks) RemoveContainer(context.Context, *pod.Sandbox, *Container)      {}
func (noHooks) UpdateContainer(_ context.Context, _ *pod.Sandbox, _ *Container, r *specs.LinuxResources) (*specs.LinuxResources, error) {
	return r, nil
}
