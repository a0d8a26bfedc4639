package images

import (
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
)

// minIDPrefix is the shortest hex prefix accepted as an image ID.
const minIDPrefix = 4

// Get finds an image by ID (with or without "sha256:", or a unique prefix of
// at least 4 hex digits), by tag or by repo digest, the name normalized as
// kubelet does. No match is errdefs.ErrNotFound.
func (s *Service) Get(ref string) (Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, err := s.lookupLocked(ref)
	if err != nil {
		return Image{}, err
	}
	return img.clone(), nil
}

// List returns every image, ordered by ID.
func (s *Service) List() []Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Image, 0, len(s.images))
	for _, img := range s.images {
		out = append(out, img.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Service) lookupLocked(ref string) (*Image, error) {
	hex := strings.TrimPrefix(ref, "sha256:")
	if img, ok := s.images["sha256:"+hex]; ok {
		return img, nil
	}
	if r, err := ParseReference(ref); err == nil {
		if id, ok := s.refs[r.String()]; ok {
			return s.images[id], nil
		}
	}
	if len(hex) >= minIDPrefix && isHex(hex) {
		var found *Image
		for id, img := range s.images {
			if strings.HasPrefix(id, "sha256:"+hex) {
				if found != nil {
					return nil, fmt.Errorf("image ID prefix %q is ambiguous: %w", ref, errdefs.ErrInvalidArgument)
				}
				found = img
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (img *Image) clone() Image {
	c := *img
	c.RepoTags = append([]string(nil), img.RepoTags...)
	c.RepoDigests = append([]string(nil), img.RepoDigests...)
	c.Layers = append([]string(nil), img.Layers...)
	c.Blobs = append([]string(nil), img.Blobs...)
	return c
}
