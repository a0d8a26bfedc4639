package images

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Annotations naming an image in an OCI layout's index.json.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

func (s *Service) importLayout(ctx context.Context, dir string) ([]Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v: %w", dir, err, errdefs.ErrInvalidArgument)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("import %s: index.json: %v: %w", dir, err, errdefs.ErrInvalidArgument)
	}
	var out []Image
	for _, desc := range im.Manifests {
		img, err := s.layoutImage(idx, desc)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", dir, err)
		}
		a := addition{img: img, from: "import " + dir}
		if ref, ok := layoutName(desc.Annotations); ok {
			a.repoDigests = []string{ref.Repo() + "@" + desc.Digest.String()}
			if t := ref.TagRef(); t != "" {
				a.repoTags = []string{t}
			}
		}
		added, err := s.add(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, *added)
	}
	return out, nil
}

// layoutImage is the image a descriptor of index.json names (for an index:
// the host platform's image).
func (s *Service) layoutImage(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	switch {
	case desc.MediaType.IsImage():
		return idx.Image(desc.Digest)
	case desc.MediaType.IsIndex():
		child, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, m := range cm.Manifests {
			if m.Platform != nil && m.Platform.Satisfies(s.reg.platform) && m.MediaType.IsImage() {
				return child.Image(m.Digest)
			}
		}
		return nil, fmt.Errorf("index %s has no image for %s: %w", desc.Digest, s.reg.platform, errdefs.ErrNotFound)
	}
	return nil, fmt.Errorf("%s is a %q, not an image: %w", desc.Digest, desc.MediaType, errdefs.ErrInvalidArgument)
}

// layoutName reads the image name from index.json annotations. A bare tag
// (the OCI meaning of ref.name) names no repository, so it names nothing.
func layoutName(ann map[string]string) (Reference, bool) {
	for _, key := range []string{annotationContainerdName, annotationRefName} {
		v := ann[key]
		if !strings.ContainsAny(v, "/:@") {
			continue
		}
		if ref, err := ParseReference(v); err == nil {
			return ref, true
		}
	}
	return Reference{}, false
}
