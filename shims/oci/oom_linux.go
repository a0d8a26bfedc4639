package oci

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/proto/events"
)

// oomWatcher reports OOM kills: on cgroup v1 through the memory
// controller's eventfd (one epoll for all tasks), on v2 through
// memory.events.
type oomWatcher struct {
	ctx   context.Context
	onOOM func(id string)
	epfd  int

	mu      sync.Mutex
	v1      map[int32]string              // guarded by mu; eventfd -> task id
	cancels map[string]context.CancelFunc // guarded by mu; task id -> stop watching
}

func newOOMWatcher(ctx context.Context, onOOM func(string)) (*oomWatcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll for OOM events: %w", err)
	}
	w := &oomWatcher{ctx: ctx, onOOM: onOOM, epfd: epfd, v1: map[int32]string{}, cancels: map[string]context.CancelFunc{}}
	go w.runV1()
	return w, nil
}

func (w *oomWatcher) add(id string, h *cgroupHandle) error {
	ctx, cancel := context.WithCancel(w.ctx)
	w.mu.Lock()
	w.cancels[id] = cancel
	w.mu.Unlock()
	if h.v2 != nil {
		go w.watchV2(ctx, id, h)
		return nil
	}
	fd, err := h.v1.OOMEventFD()
	if err != nil {
		return fmt.Errorf("memory cgroup eventfd: %w", err)
	}
	w.mu.Lock()
	w.v1[int32(fd)] = id
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); err != nil {
		w.closeV1(int32(fd))
		return fmt.Errorf("watch memory cgroup eventfd: %w", err)
	}
	go func() { <-ctx.Done(); w.closeV1(int32(fd)) }()
	return nil
}

// remove stops watching a task.
func (w *oomWatcher) remove(id string) {
	w.mu.Lock()
	cancel := w.cancels[id]
	delete(w.cancels, id)
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (w *oomWatcher) closeV1(fd int32) {
	w.mu.Lock()
	_, ok := w.v1[fd]
	delete(w.v1, fd)
	w.mu.Unlock()
	if ok {
		_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
		unix.Close(int(fd))
	}
}

func (w *oomWatcher) runV1() {
	events := make([]unix.EpollEvent, 16)
	buf := make([]byte, 8)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			slog.Warn("OOM epoll stopped", "error", err)
			return
		}
		for _, ev := range events[:n] {
			w.mu.Lock()
			id, ok := w.v1[ev.Fd]
			w.mu.Unlock()
			if ok {
				if _, err := unix.Read(int(ev.Fd), buf); err == nil {
					w.onOOM(id)
				}
			}
		}
	}
}

func (w *oomWatcher) watchV2(ctx context.Context, id string, h *cgroupHandle) {
	evCh, errCh := h.v2.EventChan()
	var last uint64
	for {
		select {
		case ev := <-evCh:
			if ev.OOMKill > last {
				last = ev.OOMKill
				w.onOOM(id)
			}
		case <-errCh:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *Service) onOOM(id string) {
	s.publish(TopicTaskOOM, &events.TaskOOM{ContainerId: id})
}
