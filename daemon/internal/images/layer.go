package images

import (
	"context"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlet/runlet/daemon/failpoint"
)

func (s *Service) hasLayer(diffID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.layers[diffID]
	return ok
}

// ensureLayer unpacks layer unless it is already in the store. Concurrent
// callers for one diffID share a single download and unpack.
func (s *Service) ensureLayer(ctx context.Context, diffID string, layer v1.Layer, fromRegistry bool) error {
	if s.hasLayer(diffID) {
		return nil
	}
	_, err := s.unpack.Do(ctx, diffID, func(ctx context.Context) (struct{}, error) {
		if s.hasLayer(diffID) {
			return struct{}{}, nil
		}
		return struct{}{}, s.unpackNew(ctx, diffID, layer, fromRegistry)
	})
	return err
}

// unpackNew unpacks into a temporary directory, checks the content against
// diffID, syncs it, and only then renames it into place and records it: a
// layer record never points to a directory a crash or power loss can leave
// incomplete.
func (s *Service) unpackNew(ctx context.Context, diffID string, layer v1.Layer, fromRegistry bool) (err error) {
	tmp, err := os.MkdirTemp(s.tmpDir(), "layer-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := unpackStream(ctx, diffID, layer, fromRegistry, tmp, s.limits); err != nil {
		return err
	}
	bytes, inodes, err := diskUsage(tmp)
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := syncTree(tmp); err != nil {
		return err
	}
	// runletd keeps no compressed copy of a layer: its blob is fetched
	// straight into the unpacked tree, complete and checked here.
	if fromRegistry {
		failpoint.Hit(failpoint.ImageBlobs)
	}
	return s.commitLayer(tmp, Layer{DiffID: diffID, Bytes: bytes, Inodes: inodes})
}

// commitLayer moves the unpacked tree tmp into place, durably, then records it.
func (s *Service) commitLayer(tmp string, l Layer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(tmp, s.LayerPath(l.DiffID)); err != nil {
		return fmt.Errorf("commit layer %s: %w", l.DiffID, err)
	}
	if err := syncDir(s.layersDir()); err != nil {
		os.RemoveAll(s.LayerPath(l.DiffID))
		return err
	}
	if err := s.db.Put(bucketLayers, l.DiffID, l); err != nil {
		os.RemoveAll(s.LayerPath(l.DiffID))
		return err
	}
	s.layers[l.DiffID] = l
	return nil
}
