package container

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/names"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/specgen"
	"github.com/runlet/runlet/daemon/internal/store"
)

// Options are what a Service works with.
type Options struct {
	State     string // runletd's volatile directory: bundles/, fifo/, image-volumes/
	Root      string // runletd's persistent directory: containers/<id>/volumes/
	DB        *store.DB
	Pods      *pod.Service
	Shims     *shimmgr.Manager
	Images    *images.Service
	Snapshots *snapshot.Snapshotter
	CDI       specgen.CDIInjector // nil: CDI is off
}

// Service runs containers.
type Service struct {
	o     Options
	names *names.Registry

	events hub

	mu   sync.Mutex
	ctrs map[string]*Container // guarded by mu; by id
	io   map[string]closer     // guarded by mu; the daemon's side of stdio
}

type closer interface{ Close() error }

// New returns a Service over the containers in the store.
func New(o Options) (*Service, error) {
	s := &Service{o: o, names: names.New(o.DB, namesBucket), ctrs: map[string]*Container{}, io: map[string]closer{}}
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

func (s *Service) get(id string) (Container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.ctrs[id]
	if !ok {
		return Container{}, fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	return *c, nil
}

func (s *Service) save(c *Container) error {
	if err := s.o.DB.Put(bucket, c.ID, c); err != nil {
		return err
	}
	s.mu.Lock()
	cp := *c
	s.ctrs[c.ID] = &cp
	s.mu.Unlock()
	return nil
}

// update applies f to the stored record under the lock and saves it.
func (s *Service) update(id string, f func(*Container) bool) error {
	s.mu.Lock()
	c, ok := s.ctrs[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	cp := *c
	changed := f(&cp)
	if changed {
		s.ctrs[id] = &cp
	}
	s.mu.Unlock()
	if !changed {
		return nil
	}
	return s.o.DB.Put(bucket, id, &cp)
}

func (s *Service) forget(c *Container) error {
	if err := s.o.DB.Delete(bucket, c.ID); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.ctrs, c.ID)
	s.mu.Unlock()
	return s.names.Release(c.Name, c.ID)
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
