package pod

import (
	"context"
	"log/slog"
)

// Recover reconnects to the shims of ready pods after runletd restarts.
// A pod whose shim is gone is cleaned up with the shim's `delete` and
// reported not ready; its tasks keep running otherwise, untouched.
func (s *Service) Recover(ctx context.Context) {
	s.mu.Lock()
	var ready []Sandbox
	for _, sb := range s.pods {
		if sb.State == Ready {
			ready = append(ready, *sb)
		}
	}
	s.mu.Unlock()
	for i := range ready {
		sb := &ready[i]
		if _, err := s.o.Shims.Reconnect(ctx, s.o.Handlers, sb.Shim); err == nil {
			continue
		} else {
			slog.Warn("pod shim is gone", "id", sb.ID, "error", err)
		}
		if err := s.cleanupTask(ctx, sb); err != nil {
			slog.Warn("clean up after a dead shim", "id", sb.ID, "error", err)
		}
		sb.State = NotReady
		if err := s.save(sb); err != nil {
			slog.Warn("sandbox state", "id", sb.ID, "error", err)
		}
	}
}
