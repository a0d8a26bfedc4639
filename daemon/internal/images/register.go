package images

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Register stores an image built in process (the built-in pause) under ref,
// pinned: kubelet's image garbage collection never removes a pinned image.
// Registering the same image again changes nothing.
func (s *Service) Register(ctx context.Context, ref string, img v1.Image) (Image, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return Image{}, err
	}
	if r.Tag == "" {
		return Image{}, fmt.Errorf("register %s: a built-in image needs a tag", ref)
	}
	added, err := s.add(ctx, addition{img: img, repoTags: []string{r.TagRef()}, pinned: true, from: "built-in " + ref})
	if err != nil {
		return Image{}, err
	}
	return *added, nil
}
