package images

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func (s *Service) importDockerArchive(ctx context.Context, path string, opener tarball.Opener) ([]Image, error) {
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("import %s: manifest.json: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	var out []Image
	for _, desc := range m {
		added, err := s.importArchiveEntry(ctx, path, opener, desc)
		if err != nil {
			return nil, err
		}
		out = append(out, *added)
	}
	return out, nil
}

func (s *Service) importArchiveEntry(ctx context.Context, path string, opener tarball.Opener, desc tarball.Descriptor) (*Image, error) {
	var tags []string
	var pick *name.Tag
	for _, t := range desc.RepoTags {
		ref, err := ParseReference(t)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", path, err)
		}
		tags = append(tags, ref.TagRef())
		if tag, err := name.NewTag(t); err == nil && pick == nil {
			pick = &tag
		}
	}
	img, err := tarball.Image(opener, pick)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	return s.add(ctx, addition{img: img, repoTags: tags, from: "import " + path})
}
