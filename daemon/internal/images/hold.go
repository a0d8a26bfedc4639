package images

import (
	"context"
	"fmt"
	"slices"

	"github.com/containerd/errdefs"
)

// Hold records that holder (a container's snapshot) uses the layers of the
// image ref names, so that removing the image keeps them, and returns the
// layer directories bottom first and the image ID. Holding again replaces.
func (s *Service) Hold(ctx context.Context, holder, ref string) ([]string, string, error) {
	if holder == "" {
		return nil, "", fmt.Errorf("layer holder name is empty: %w", errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	img, err := s.lookupLocked(ref)
	if err != nil {
		return nil, "", err
	}
	ids := slices.Clone(img.Layers)
	if err := s.db.Put(bucketHolders, holder, ids); err != nil {
		return nil, "", err
	}
	s.holders[holder] = ids
	dirs := make([]string, len(ids))
	for i, id := range ids {
		dirs[i] = s.LayerPath(id)
	}
	return dirs, img.ID, nil
}

// Release drops holder's claim and frees the layers nothing else uses.
// Releasing an unknown holder is not an error.
func (s *Service) Release(ctx context.Context, holder string) error {
	s.mu.Lock()
	if _, ok := s.holders[holder]; !ok {
		s.mu.Unlock()
		return nil
	}
	if err := s.db.Delete(bucketHolders, holder); err != nil {
		s.mu.Unlock()
		return err
	}
	delete(s.holders, holder)
	trash, err := s.collectLocked()
	s.mu.Unlock()
	emptyTrash(trash)
	return err
}
