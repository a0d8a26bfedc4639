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
	img, err := s.lookupLocked(ref)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if err := s.db.Delete(bucketImages, img.ID); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("remove image %s: %w", img.ID, err)
	}
	delete(s.images, img.ID)
	for r, id := range s.refs {
		if id == img.ID {
			delete(s.refs, r)
		}
	}
	s.log.InfoContext(ctx, "removed image", "id", img.ID, "tags", img.RepoTags)
	trash, err := s.collectLocked()
	s.mu.Unlock()
	emptyTrash(trash)
	return err
}

// collect runs collectLocked for callers that do not hold s.mu.
func (s *Service) collect() {
	s.mu.Lock()
	trash, err := s.collectLocked()
	s.mu.Unlock()
	emptyTrash(trash)
	if err != nil {
		s.log.Warn("garbage collection", "err", err)
	}
}

// collectLocked drops the records of layers no image, holder or lease uses,
// and of blobs no image uses, and moves their files into the scratch
// directory: the returned paths, for emptyTrash to delete once s.mu is
// released, so a big layer never blocks List or Status. Records go first, so
// a crash midway leaves only unrecorded files (removed at the next start).
// Caller holds s.mu.
func (s *Service) collectLocked() ([]string, error) {
	used := s.usedLayersLocked()
	for id := range s.layers {
		if used[id] {
			continue
		}
		if err := s.db.Delete(bucketLayers, id); err != nil {
			return nil, err
		}
		delete(s.layers, id)
	}
	trash, err := s.trashUnlisted(s.layersDir(), func(name string) bool { return s.hasLayerLocked("sha256:" + name) })
	if err != nil {
		return trash, err
	}
	blobs := map[string]bool{}
	for _, img := range s.images {
		for _, b := range img.Blobs {
			blobs[b] = true
		}
	}
	for b := range s.blobLeases {
		blobs[b] = true
	}
	more, err := s.trashUnlisted(s.contentDir(), func(name string) bool { return blobs["sha256:"+name] })
	return append(trash, more...), err
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

// trashUnlisted moves every entry of dir for which keep is false into the
// scratch directory and returns the new paths.
func (s *Service) trashUnlisted(dir string, keep func(name string) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var trash []string
	for _, e := range entries {
		if keep(e.Name()) {
			continue
		}
		to, err := os.MkdirTemp(s.tmpDir(), "gc-")
		if err != nil {
			return trash, err
		}
		trash = append(trash, to)
		if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return trash, fmt.Errorf("free %s: %v: %w", e.Name(), err, errdefs.ErrUnknown)
		}
	}
	return trash, nil
}

// emptyTrash deletes what collectLocked moved aside.
func emptyTrash(paths []string) {
	for _, p := range paths {
		os.RemoveAll(p)
	}
}
