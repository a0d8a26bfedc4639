package images

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// load reads every record of the store into memory.
func (s *Service) load() error {
	err := s.db.ForEach(bucketImages, func(key string, value []byte) error {
		var img Image
		if err := json.Unmarshal(value, &img); err != nil {
			return fmt.Errorf("image record %s: %w", key, err)
		}
		s.images[img.ID] = &img
		for _, r := range append(append([]string{}, img.RepoTags...), img.RepoDigests...) {
			s.refs[r] = img.ID
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = s.db.ForEach(bucketLayers, func(key string, value []byte) error {
		var l Layer
		if err := json.Unmarshal(value, &l); err != nil {
			return fmt.Errorf("layer record %s: %w", key, err)
		}
		s.layers[l.DiffID] = l
		return nil
	})
	if err != nil {
		return err
	}
	return s.db.ForEach(bucketHolders, func(key string, value []byte) error {
		var ids []string
		if err := json.Unmarshal(value, &ids); err != nil {
			return fmt.Errorf("layer holder %s: %w", key, err)
		}
		s.holders[key] = ids
		return nil
	})
}

// recover removes what an interrupted pull or import left: temporary
// directories, layer directories that were never recorded, records whose
// directory is gone, then everything no image or holder uses.
func (s *Service) recover() error {
	entries, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmpDir(), e.Name())); err != nil {
			return fmt.Errorf("clean %s: %w", s.tmpDir(), err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropMissingLayersLocked()
}

// dropMissingLayersLocked forgets layers whose directory is gone, then
// collects. Caller holds s.mu (at start nothing else runs, so the trash is
// emptied right away).
func (s *Service) dropMissingLayersLocked() error {
	for id := range s.layers {
		if _, err := os.Lstat(s.LayerPath(id)); os.IsNotExist(err) {
			s.log.Warn("layer directory missing; dropping its record", "diff_id", id)
			delete(s.layers, id)
			if err := s.db.Delete(bucketLayers, id); err != nil {
				return err
			}
		}
	}
	trash, err := s.collectLocked()
	emptyTrash(trash)
	return err
}

// saveImageLocked persists img. Caller holds s.mu.
func (s *Service) saveImageLocked(img *Image) error {
	if err := s.db.Put(bucketImages, img.ID, img); err != nil {
		return fmt.Errorf("save image %s: %w", img.ID, err)
	}
	s.images[img.ID] = img
	return nil
}
