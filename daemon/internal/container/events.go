package container

import (
	"sync"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// hub fans container lifecycle events out to GetContainerEvents streams.
// A subscriber that falls behind by more than its buffer loses events
// rather than slowing the runtime down.
type hub struct {
	mu   sync.Mutex
	subs map[chan *runtimeapi.ContainerEventResponse]struct{} // guarded by mu
}

const subscriberBuffer = 256

// Subscribe returns a channel of events and the function that ends it.
func (s *Service) Subscribe() (<-chan *runtimeapi.ContainerEventResponse, func()) {
	ch := make(chan *runtimeapi.ContainerEventResponse, subscriberBuffer)
	s.events.mu.Lock()
	if s.events.subs == nil {
		s.events.subs = map[chan *runtimeapi.ContainerEventResponse]struct{}{}
	}
	s.events.subs[ch] = struct{}{}
	s.events.mu.Unlock()
	return ch, func() {
		s.events.mu.Lock()
		delete(s.events.subs, ch)
		s.events.mu.Unlock()
	}
}

// emit sends an event about container id to every subscriber.
func (s *Service) emit(id string, kind runtimeapi.ContainerEventType) {
	ev := &runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: kind, CreatedAt: time.Now().UnixNano()}
	if c, err := s.get(id); err == nil {
		ev.PodSandboxStatus, _, _ = s.o.Pods.Status(c.SandboxID, false)
		if st, _, err := s.Status(id, false); err == nil {
			ev.ContainersStatuses = []*runtimeapi.ContainerStatus{st}
		}
	}
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	for ch := range s.events.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}
