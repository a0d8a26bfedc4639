package oci

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/bundle"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/shims/internal/reaper"
)

// Service implements containerd.task.v2.Task (and v3, whose messages are
// the same) for the containers of one shim group.
type Service struct {
	cfg    Config
	exits  *exitRouter
	oom    *oomWatcher
	ctx    context.Context // lives as long as the service
	cancel context.CancelFunc
	ownPid uint32

	hostSetup sync.Mutex
	hostReady bool // guarded by hostSetup

	mu         sync.Mutex
	containers map[string]*container // guarded by mu
}

var _ task.TaskService = (*Service)(nil)

// New starts a service; it routes the exits the shim's reaper collects.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := bundle.ValidateID(cfg.Namespace); err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Service{
		cfg:        cfg,
		ctx:        ctx,
		cancel:     cancel,
		ownPid:     uint32(os.Getpid()),
		containers: map[string]*container{},
	}
	s.exits = newExitRouter(reaper.Default, s.onExit)
	oom, err := newOOMWatcher(ctx, s.onOOM)
	if err != nil {
		cancel()
		return nil, err
	}
	s.oom = oom
	return s, nil
}

// container returns the task with id or NotFound.
func (s *Service) container(id string) (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, fmt.Errorf("task %q: %w", id, errdefs.ErrNotFound)
	}
	return c, nil
}

// process returns the init or exec process a request names.
func (s *Service) process(id, execID string) (*process, error) {
	c, err := s.container(id)
	if err != nil {
		return nil, err
	}
	return c.process(execID)
}

// reserve claims id for a Create; AlreadyExists if it is taken.
func (s *Service) reserve(c *container) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.containers[c.id]; ok {
		return fmt.Errorf("task %q: %w", c.id, errdefs.ErrAlreadyExists)
	}
	s.containers[c.id] = c
	return nil
}

func (s *Service) release(id string) {
	s.mu.Lock()
	delete(s.containers, id)
	s.mu.Unlock()
}

func (s *Service) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.containers)
}

// publish queues an event. Events never fail the RPC that caused them: a
// daemon that misses one reads the state with the State RPC.
func (s *Service) publish(topic string, event proto.Message) {
	if s.cfg.Publisher == nil {
		return
	}
	if err := s.cfg.Publisher.Publish(s.ctx, topic, event); err != nil {
		slog.Warn("event not queued", "topic", topic, "error", err)
	}
}

// ensureHost runs the configured host setup until it succeeds once.
func (s *Service) ensureHost(ctx context.Context) error {
	if s.cfg.HostSetup == nil {
		return nil
	}
	s.hostSetup.Lock()
	defer s.hostSetup.Unlock()
	if s.hostReady {
		return nil
	}
	if err := s.cfg.HostSetup(ctx); err != nil {
		return fmt.Errorf("prepare host for %s: %w", s.cfg.RuntimeBinary, err)
	}
	s.hostReady = true
	return nil
}
