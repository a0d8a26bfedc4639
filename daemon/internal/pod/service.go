package pod

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/daemon/internal/cni"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/keylock"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/store"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/runtimeclass"
)

// Options are what a Service works with.
type Options struct {
	// State is runletd's volatile directory: sandboxes/, netns/, bundles/.
	State     string
	DB        *store.DB
	Handlers  *runtimeclass.Set
	Shims     Shims
	Network   *cni.Network
	Images    *images.Service
	Snapshots *snapshot.Snapshotter
	// SandboxImage is the image pods run (the built-in pause by default).
	SandboxImage string
	// NRI tells NRI plugins about pods; nil: none.
	NRI Hooks
}

// cleanupTimeout bounds the undoing of what a failed call or a dead shim
// left (shim calls, the shim's delete): a hung runtime must not hold a
// pod's lock, or a name, forever. What is not undone in time stays in the
// record, for the next call or start.
const cleanupTimeout = time.Minute

// Shims is the shim manager as pods use it (a *shimmgr.Manager; the
// lifecycle tests give a fake).
type Shims interface {
	Pod(sandboxID string) (*shimmgr.Pod, error)
	StartPod(ctx context.Context, h *runtimeclass.Handler, sandboxID, bundle string) (*shimmgr.Pod, error)
	Reconnect(ctx context.Context, set *runtimeclass.Set, r shimmgr.Record) (*shimmgr.Pod, error)
	Find(ctx context.Context, h *runtimeclass.Handler, sandboxID, bundle string) (*shimmgr.Pod, error)
	Cleanup(ctx context.Context, h *runtimeclass.Handler, id, bundle string) (*task.DeleteResponse, error)
	Shutdown(ctx context.Context, sandboxID string) error
}

// Service runs pod sandboxes.
type Service struct {
	o     Options
	names *names.Registry
	// locks serialises Stop, Remove and a dead shim's cleanup of one pod
	// (by id); runs dedupes concurrent RunPodSandbox calls of one name.
	locks keylock.Locks
	runs  keylock.Flights[string]

	mu       sync.Mutex
	pods     map[string]*Sandbox // guarded by mu; by id
	inFlight map[string]bool     // guarded by mu; ids a RunPodSandbox of this process is making
	// unreachable are the pods whose shim recovery could not reach,
	// for a reason that does not prove it dead; guarded by mu.
	unreachable map[string]bool
	containers  Containers // guarded by mu
}

// New returns a Service over the sandboxes in the store.
func New(o Options) (*Service, error) {
	s := &Service{o: o, names: names.New(o.DB, namesBucket, bucket), pods: map[string]*Sandbox{}, inFlight: map[string]bool{}, unreachable: map[string]bool{}}
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

// Get returns a copy of a sandbox record, NotFound when unknown or still
// being created (its id is not yet anyone's to use).
func (s *Service) Get(id string) (Sandbox, error) {
	sb, err := s.get(id)
	if err == nil && sb.State == Creating {
		return Sandbox{}, fmt.Errorf("pod sandbox %q: %w", id, errdefs.ErrNotFound)
	}
	return sb, err
}

// Handler resolves a pod's runtime handler.
func (s *Service) Handler(name string) (*runtimeclass.Handler, error) {
	return s.o.Handlers.Resolve(name)
}

// Containers is the container service as the pod service needs it: a
// pod's containers stop before its sandbox and go with it.
type Containers interface {
	StopAll(ctx context.Context, sandboxID string) error
	RemoveAll(ctx context.Context, sandboxID string) error
	// ShimDied cleans up the live containers of a pod whose shim died and
	// records them exited.
	ShimDied(ctx context.Context, sandboxID string)
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

// claim stores a new sandbox record together with its name reservation
// (reclaim may take the name back from a stale holder) and marks it in
// flight until built.
func (s *Service) claim(sb *Sandbox, reclaim func(holder string) bool) error {
	if err := s.names.ClaimFresh(sb.Name, sb.ID, sb, reclaim); err != nil {
		return err
	}
	s.mu.Lock()
	cp := *sb
	s.pods[sb.ID] = &cp
	s.inFlight[sb.ID] = true
	s.mu.Unlock()
	return nil
}

// built ends the in-flight mark claim set.
func (s *Service) built(id string) {
	s.mu.Lock()
	delete(s.inFlight, id)
	s.mu.Unlock()
}

// update applies f to the record under the lock and stores the result
// if f changed it: concurrent updates (an exit event beside a Stop) never
// lose each other's fields.
func (s *Service) update(id string, f func(*Sandbox) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb, ok := s.pods[id]
	if !ok {
		return fmt.Errorf("pod sandbox %q: %w", id, errdefs.ErrNotFound)
	}
	cp := *sb
	if !f(&cp) {
		return nil
	}
	if err := s.o.DB.Put(bucket, id, &cp); err != nil {
		return err
	}
	s.pods[id] = &cp
	return nil
}

// forget deletes the record and frees its name, in one transaction.
func (s *Service) forget(sb *Sandbox) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.names.Unclaim(sb.Name, sb.ID); err != nil {
		return err
	}
	delete(s.pods, sb.ID)
	return nil
}

// lock serialises the state-changing calls on pod id.
func (s *Service) lock(ctx context.Context, id string) (func(), error) {
	return s.locks.Lock(ctx, id)
}

// Lock holds pod id's lock, the one its Stop, Remove, resize and dead-shim
// cleanup take, until the returned function runs: CreateContainer holds
// it so that its pod is not stopped or removed half-way through. Lock
// order: a pod's, then its containers'.
func (s *Service) Lock(ctx context.Context, id string) (func(), error) {
	return s.lock(ctx, id)
}

// marshalConfig encodes a CRI config deterministically (map entries sorted), so
// that one config always gives the same bytes: a retry is told apart from
// another config by comparing them.
func marshalConfig(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
