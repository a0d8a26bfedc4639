package pod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/netns"
	"github.com/runlet/runlet/daemon/internal/sandboxfs"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
)

// teardown removes everything a pod's record says it may have made,
// whether or not it was made: the pause task and shim, the network, the
// files, bundle and snapshot. Every step is idempotent, so it serves a
// failed RunPodSandbox, a crashed one found at start, and RemovePodSandbox.
func (s *Service) teardown(ctx context.Context, sb *Sandbox) error {
	if err := s.stopTask(ctx, sb); err != nil {
		return err
	}
	if err := s.releaseNetwork(ctx, sb); err != nil {
		return err
	}
	return s.removeFiles(ctx, sb)
}

// stopTask ends the pause task and the pod's shim: through the shim when
// one serves, with the shim's `delete` when it is gone.
func (s *Service) stopTask(ctx context.Context, sb *Sandbox) error {
	p, err := s.shimOf(ctx, sb)
	if errdefs.IsNotFound(err) {
		return nil // no shim was ever started
	}
	if err != nil {
		return s.cleanupTask(ctx, sb)
	}
	killAndDelete(ctx, p.Task(), sb.ID)
	return s.o.Shims.Shutdown(ctx, sb.ID)
}

// shimOf returns the pod's shim: the connected one, else a reconnection
// to the recorded address, else (a creation cut short before it recorded
// the address) the one a new `start` finds. NotFound when no shim can
// have been started.
func (s *Service) shimOf(ctx context.Context, sb *Sandbox) (*shimmgr.Pod, error) {
	if p, err := s.o.Shims.Pod(sb.ID); err == nil {
		return p, nil
	}
	if sb.Shim.Address != "" {
		return s.o.Shims.Reconnect(ctx, s.o.Handlers, sb.Shim)
	}
	if sb.State != Creating || !hasSpec(sb.Bundle) {
		return nil, fmt.Errorf("pod %s never had a shim: %w", sb.ID, errdefs.ErrNotFound)
	}
	h, err := s.o.Handlers.Resolve(sb.Handler)
	if err != nil {
		return nil, err
	}
	p, err := s.o.Shims.Find(ctx, h, sb.ID, sb.Bundle)
	if err != nil {
		slog.Warn("find the shim of a pod that was not made", "id", sb.ID, "error", err)
	}
	return p, err
}

func hasSpec(bundleDir string) bool {
	_, err := os.Stat(filepath.Join(bundleDir, "config.json"))
	return err == nil
}

// cleanupTask runs the shim's `delete` for a pod whose shim is gone.
func (s *Service) cleanupTask(ctx context.Context, sb *Sandbox) error {
	h, err := s.o.Handlers.Resolve(sb.Handler)
	if err != nil {
		return err
	}
	_, err = s.o.Shims.Cleanup(ctx, h, sb.ID, sb.Bundle)
	if err != nil && !hasSpec(sb.Bundle) {
		return nil // nothing was ever created from this bundle
	}
	return err
}

// releaseNetwork runs CNI DEL and removes the netns; both are idempotent.
func (s *Service) releaseNetwork(ctx context.Context, sb *Sandbox) error {
	if sb.NetNS == "" {
		return nil
	}
	cfg, err := sb.CRIConfig()
	if err != nil {
		return err
	}
	teardown := s.o.Network.Teardown(ctx, podNetwork(sb, cfg))
	// Remove by name also clears the empty file a crash mid-create leaves.
	return errors.Join(teardown, netns.Remove(ctx, filepath.Dir(sb.NetNS), sb.ID))
}

// removeFiles removes the pod's files and shm, its bundle (with the
// id-mapped rootfs a user namespace pod mounted in it) and then its
// rootfs snapshot.
func (s *Service) removeFiles(ctx context.Context, sb *Sandbox) error {
	files := &sandboxfs.Files{Dir: sb.Dir}
	b := &bundle.Bundle{Path: sb.Bundle, ID: sb.ID}
	if err := errors.Join(files.Remove(ctx), b.Delete(ctx)); err != nil {
		return err
	}
	return s.o.Snapshots.Remove(ctx, sb.ID)
}
