package images

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
)

// Remove deletes the image ref names, with all its tags and digests, then
// frees every layer and blob that no other image, holder or pull uses.
// A missing image is errdefs.ErrNotFound.
func (s *Service) Remove(ctx context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, err := s.lookupLocked(ref)
	if err != nil {
		return err
	}
	if err := s.db.Delete(bucketImages, img.ID); err != nil {
		return fmt.Errorf("remove image %s: %w", img.ID, err)
	}
	delete(s.images, img.ID)
	for r, id := range s.refs {
		if id == img.ID {
			delete(s.refs, r)
		}
	}
	s.log.InfoContext(ctx, "removed image", "id", img.ID, "tags", img.RepoTags)
	return s.collectLocked()
}

// collect is collectLocked for callers that do not hold s.mu.
func (s *Service) collect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.collectLocked(); err != nil {
		s.log.Warn("garbage collection", "err", err)
	}
}

// collectLocked removes layers no image, holder or lease uses, and blobs no
// image uses, records first so a crash midway leaves only unrecorded
// directories (removed at the next start). Caller holds s.mu.
func (s *Service) collectLocked() error {
	used := s.usedLayersLocked()
	for id := range s.layers {
		if used[id] {
			continue
		}
		if err := s.db.Delete(bucketLayers, id); err != nil {
			return err
		}
		delete(s.layers, id)
	}
	if err := removeUnlisted(s.layersDir(), func(name string) bool { return used["sha256:"+name] && s.hasLayerLocked("sha256:"+name) }); err != nil {
		return err
	}
	blobs := map[string]bool{}
	for _, img := range s.images {
		for _, b := range img.Blobs {
			blobs[b] = true
		}
	}
	return removeUnlisted(s.contentDir(), func(name string) bool { return blobs["sha256:"+name] })
}

func (s *Service) hasLayerLocked(id string) bool {
	_, ok := s.layers[id]
	return ok
}

func (s *Service) usedLayersLocked() map[string]bool {
	used := map[string]bool{}
	for _, img := range s.images {
		for _, l := range img.Layers {
			used[l] = true
		}
	}
	for _, ids := range s.holders {
		for _, l := range ids {
			used[l] = true
		}
	}
	for l := range s.leases {
		used[l] = true
	}
	return used
}

// removeUnlisted deletes every entry of dir for which keep is false.
func removeUnlisted(dir string, keep func(name string) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if keep(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("free %s: %v: %w", e.Name(), err, errdefs.ErrUnknown)
		}
	}
	return nil
}
