package pod

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/daemon/internal/cni"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/store"
	"github.com/runlet/runlet/runtimeclass"
)

// Options are what a Service works with.
type Options struct {
	// State is runletd's volatile directory: sandboxes/, netns/, bundles/.
	State     string
	DB        *store.DB
	Handlers  *runtimeclass.Set
	Shims     *shimmgr.Manager
	Network   *cni.Network
	Images    *images.Service
	Snapshots *snapshot.Snapshotter
	// SandboxImage is the image pods run (the built-in pause by default).
	SandboxImage string
	Log          *slog.Logger
}

// Service runs pod sandboxes.
type Service struct {
	o     Options
	names *names.Registry

	mu         sync.Mutex
	pods       map[string]*Sandbox // guarded by mu; by id
	containers Containers          // guarded by mu
}

// New returns a Service over the sandboxes in the store.
func New(o Options) (*Service, error) {
	s := &Service{o: o, names: names.New(o.DB, namesBucket), pods: map[string]*Sandbox{}}
	err := o.DB.ForEach(bucket, func(key string, value []byte) error {
		var sb Sandbox
		if err := json.Unmarshal(value, &sb); err != nil {
			return fmt.Errorf("sandbox record %s: %w", key, err)
		}
		s.pods[sb.ID] = &sb
		return nil
	})
	return s, err
}

func (s *Service) dir(kind string) string { return filepath.Join(s.o.State, kind) }

// Get returns a copy of a sandbox record, NotFound when unknown.
func (s *Service) Get(id string) (Sandbox, error) { return s.get(id) }

// Handler resolves a pod's runtime handler.
func (s *Service) Handler(name string) (*runtimeclass.Handler, error) {
	return s.o.Handlers.Resolve(name)
}

// Containers is the container service as the pod service needs it: a
// pod's containers stop before its sandbox and go with it.
type Containers interface {
	StopAll(ctx context.Context, sandboxID string) error
	RemoveAll(ctx context.Context, sandboxID string) error
}

// SetContainers connects the container service (made after this one).
func (s *Service) SetContainers(c Containers) {
	s.mu.Lock()
	s.containers = c
	s.mu.Unlock()
}

func (s *Service) containerService() Containers {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.containers
}

// get returns a copy of a sandbox record, NotFound when unknown.
func (s *Service) get(id string) (Sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb, ok := s.pods[id]
	if !ok {
		return Sandbox{}, fmt.Errorf("pod sandbox %q: %w", id, errdefs.ErrNotFound)
	}
	return *sb, nil
}

// save stores a sandbox record and keeps it in memory.
func (s *Service) save(sb *Sandbox) error {
	if err := s.o.DB.Put(bucket, sb.ID, sb); err != nil {
		return err
	}
	s.mu.Lock()
	cp := *sb
	s.pods[sb.ID] = &cp
	s.mu.Unlock()
	return nil
}

func (s *Service) forget(sb *Sandbox) error {
	if err := s.o.DB.Delete(bucket, sb.ID); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.pods, sb.ID)
	s.mu.Unlock()
	return s.names.Release(sb.Name, sb.ID)
}

// setState records a new state for a sandbox.
func (s *Service) setState(ctx context.Context, id string, st State) error {
	sb, err := s.get(id)
	if err != nil {
		return err
	}
	sb.State = st
	return s.save(&sb)
}

func marshalConfig(m proto.Message) ([]byte, error) { return proto.Marshal(m) }
