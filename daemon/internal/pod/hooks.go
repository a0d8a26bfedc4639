package pod

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Hooks tell NRI plugins about pods (runletd gives an *nri.NRI; nil
// Options.NRI: no plugins).
type Hooks interface {
	// BlockSync keeps a plugin that connects from being synchronised
	// until the returned function runs: a pod made meanwhile reaches it
	// as an event or in the synchronisation, never neither.
	BlockSync(ctx context.Context) (func(), error)
	// RunPodSandbox may refuse the pod; StopPodSandbox and
	// RemovePodSandbox (which also undoes a RunPodSandbox) cannot.
	RunPodSandbox(ctx context.Context, sb *Sandbox) error
	StopPodSandbox(ctx context.Context, sb *Sandbox)
	RemovePodSandbox(ctx context.Context, sb *Sandbox)
	// UpdatePodSandbox may refuse a resize (UpdatePodSandboxResources);
	// PostUpdatePodSandbox follows a recorded one and cannot.
	UpdatePodSandbox(ctx context.Context, sb *Sandbox, overhead, resources *runtimeapi.LinuxContainerResources) error
	PostUpdatePodSandbox(ctx context.Context, sb *Sandbox)
}

func (s *Service) hooks() Hooks {
	if s.o.NRI == nil {
		return noHooks{}
	}
	return s.o.NRI
}

type noHooks struct{}

func (noHooks) BlockSync(context.Context) (func(), error)     { return func() {}, nil }
func (noHooks) RunPodSandbox(context.Context, *Sandbox) error { return nil }
func (noHooks) StopPodSandbox(context.Context, *Sandbox)      {}
func (noHooks) RemovePodSandbox(context.Context, *Sandbox)    {}
func (noHooks) UpdatePodSandbox(context.Context, *Sandbox, *runtimeapi.LinuxContainerResources, *runtimeapi.LinuxContainerResources) error {
	return nil
}
func (noHooks) PostUpdatePodSandbox(context.Context, *Sandbox) {}

// Records returns copies of the pods that are made (none still being
// created), for NRI's synchronisation of a plugin.
func (s *Service) Records() []Sandbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Sandbox, 0, len(s.pods))
	for _, sb := range s.pods {
		if sb.State != Creating {
			out = append(out, *sb)
		}
	}
	return out
}
