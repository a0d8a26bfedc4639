package container

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/keylock"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/specgen"
	"github.com/runlet/runlet/daemon/internal/store"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/runtimeclass"
)

// Options are what a Service works with.
type Options struct {
	State     string // runletd's volatile directory: bundles/, fifo/, image-volumes/
	Root      string // runletd's persistent directory: containers/<id>/volumes/
	DB        *store.DB
	Pods      *pod.Service
	Shims     Shims
	Images    *images.Service
	Snapshots *snapshot.Snapshotter
	CDI       specgen.CDIInjector // nil: CDI is off
	// NRI tells NRI plugins about containers; nil: none.
	NRI Hooks
}

// cleanupTimeout bounds the undoing of what a failed call, an exit or a
// dead shim left (shim calls, the shim's delete): a hung runtime must not
// hold a container's lock, or a name, forever. What is not undone in time
// stays in the record, for the next call or start.
const cleanupTimeout = time.Minute

// Shims is the shim manager as containers use it (a *shimmgr.Manager;
// the lifecycle tests give a fake).
type Shims interface {
	Pod(sandboxID string) (*shimmgr.Pod, error)
	Cleanup(ctx context.Context, h *runtimeclass.Handler, id, bundle string) (*task.DeleteResponse, error)
}

// Service runs containers.
type Service struct {
	o     Options
	names *names.Registry

	events hub
	// locks serialises the state-changing calls on one container (by id);
	// creates dedupes concurrent CreateContainer calls of one name.
	locks   keylock.Locks
	creates keylock.Flights[string]

	mu       sync.Mutex
	ctrs     map[string]*Container // guarded by mu; by id
	io       map[string]closer     // guarded by mu; the daemon's side of stdio
	inFlight map[string]bool       // guarded by mu; ids a CreateContainer of this process is making
}

type closer interface{ Close() error }

// New returns a Service over the containers in the store.
func New(o Options) (*Service, error) {
	s := &Service{o: o, names: names.New(o.DB, namesBucket, bucket), ctrs: map[string]*Container{},
		io: map[string]closer{}, inFlight: map[string]bool{}}
	err := o.DB.ForEach(bucket, func(key string, value []byte) error {
		var c Container
		if err := json.Unmarshal(value, &c); err != nil {
			return fmt.Errorf("container record %s: %w", key, err)
		}
		s.ctrs[c.ID] = &c
		return nil
	})
	return s, err
}

// get returns a copy of a container's record; NotFound when unknown or
// still being created (its id is not yet anyone's to use).
func (s *Service) get(id string) (Container, error) {
	c, err := s.record(id)
	if err == nil && c.State == Creating {
		return Container{}, fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	return c, err
}

// record returns a copy of any record, one being created included.
func (s *Service) record(id string) (Container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.ctrs[id]
	if !ok {
		return Container{}, fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	return *c, nil
}

// claim stores a new record with its name reservation (one transaction;
// reclaim may take the name back from a stale holder) and marks it in
// flight until built.
func (s *Service) claim(c *Container, reclaim func(holder string) bool) error {
	if err := s.names.ClaimFresh(c.Name, c.ID, c, reclaim); err != nil {
		return err
	}
	s.mu.Lock()
	cp := *c
	s.ctrs[c.ID] = &cp
	s.inFlight[c.ID] = true
	s.mu.Unlock()
	return nil
}

// built ends the in-flight mark claim set.
func (s *Service) built(id string) {
	s.mu.Lock()
	delete(s.inFlight, id)
	s.mu.Unlock()
}

// building reports whether a CreateContainer of this process is making id.
func (s *Service) building(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight[id]
}

// lock serialises the state-changing calls on container id.
func (s *Service) lock(ctx context.Context, id string) (func(), error) {
	return s.locks.Lock(ctx, id)
}

// update applies f to the record and stores the result if f changed it,
// both under s.mu: concurrent updates (an exit event beside a Start) reach
// the store in the order they reach memory.
func (s *Service) update(id string, f func(*Container) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.ctrs[id]
	if !ok {
		return fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	cp := *c
	if !f(&cp) {
		return nil
	}
	if err := s.o.DB.Put(bucket, id, &cp); err != nil {
		return err
	}
	s.ctrs[id] = &cp
	return nil
}

// forget deletes the record and frees its name, in one transaction, under
// s.mu so that no update stores the record again.
func (s *Service) forget(c *Container) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.names.Unclaim(c.Name, c.ID); err != nil {
		return err
	}
	delete(s.ctrs, c.ID)
	return nil
}

// inPod lists the ids of a pod's containers.
func (s *Service) inPod(sandboxID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, c := range s.ctrs {
		if c.SandboxID == sandboxID {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *Service) dir(kind string) string { return filepath.Join(s.o.State, kind) }
