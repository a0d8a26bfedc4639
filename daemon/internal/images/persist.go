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
	if err := s.dropMissingLayersLocked(); err != nil {
		return err
	}
	if err := s.dropIncompleteImagesLocked(); err != nil {
		return err
	}
	trash, err := s.collectLocked()
	emptyTrash(trash)
	return err
}

// dropMissingLayersLocked forgets layers whose directory is gone (or is not
// a directory). Caller holds s.mu.
func (s *Service) dropMissingLayersLocked() error {
	for id := range s.layers {
		if st, err := os.Lstat(s.LayerPath(id)); err == nil && st.IsDir() {
			continue
		} else if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("check layer %s: %w", id, err)
		}
		s.log.Warn("layer directory missing; dropping its record", "diff_id", id)
		delete(s.layers, id)
		if err := s.db.Delete(bucketLayers, id); err != nil {
			return err
		}
	}
	return nil
}

// dropIncompleteImagesLocked drops the record of every image a layer or blob
// of which is missing, so that it is never served: ImageStatus reports it
// absent and the next PullImage fetches it again. Caller holds s.mu.
func (s *Service) dropIncompleteImagesLocked() error {
	for id, img := range s.images {
		missing := s.missingPartLocked(img)
		if missing == "" {
			continue
		}
		s.log.Warn("image incomplete on disk; dropping it so that the next pull fetches it again",
			"id", id, "tags", img.RepoTags, "missing", missing)
		if err := s.db.Delete(bucketImages, id); err != nil {
			return fmt.Errorf("drop incomplete image %s: %w", id, err)
		}
		delete(s.images, id)
		for r, rid := range s.refs {
			if rid == id {
				delete(s.refs, r)
			}
		}
	}
	return nil
}

// missingPartLocked names the first layer or blob of img the store lacks, or "".
func (s *Service) missingPartLocked(img *Image) string {
	for _, l := range img.Layers {
		if !s.hasLayerLocked(l) {
			return "layer " + l
		}
	}
	for _, b := range img.Blobs {
		if ValidateDigest(b) != nil {
			return "blob " + b
		}
		if _, err := os.Stat(s.blobPath(b)); err != nil {
			return "blob " + b
		}
	}
	return ""
}

// saveImageLocked persists img. Caller holds s.mu.
func (s *Service) saveImageLocked(img *Image) error {
	if err := s.db.Put(bucketImages, img.ID, img); err != nil {
		return fmt.Errorf("save image %s: %w", img.ID, err)
	}
	s.images[img.ID] = img
	return nil
}
