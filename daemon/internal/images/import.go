package images

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Annotations naming an image in an OCI layout's index.json.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// ImportFile loads every image of an OCI image layout (a directory or a tar
// of one) or a docker-archive tarball (docker save) into the store.
func (s *Service) ImportFile(ctx context.Context, path string) ([]Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v: %w", path, err, errdefs.ErrNotFound)
	}
	if st.IsDir() {
		return s.importLayout(ctx, path)
	}
	kind, err := archiveKind(path)
	if err != nil {
		return nil, err
	}
	if kind == "docker" {
		return s.importDockerArchive(ctx, path)
	}
	dir, err := os.MkdirTemp(s.tmpDir(), "import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractPlain(path, dir); err != nil {
		return nil, err
	}
	return s.importLayout(ctx, dir)
}

// archiveKind tells an OCI layout tar ("oci") from a docker-archive ("docker").
// A docker save of Docker 25+ is both; the OCI index is preferred.
func archiveKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	kind := ""
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("import %s: not a tar archive: %v: %w", path, err, errdefs.ErrInvalidArgument)
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "oci-layout":
			return "oci", nil
		case "manifest.json":
			kind = "docker"
		}
	}
	if kind == "" {
		return "", fmt.Errorf("import %s: neither an OCI image layout (oci-layout) nor a docker-archive (manifest.json): %w", path, errdefs.ErrInvalidArgument)
	}
	return kind, nil
}

// extractPlain unpacks a tar of plain files and directories into dir,
// refusing links, devices and any name that leaves dir.
func extractPlain(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
		}
		if err := extractPlainEntry(root, tr, hdr); err != nil {
			return fmt.Errorf("import %s: entry %q: %w", path, hdr.Name, err)
		}
	}
}

func extractPlainEntry(root *os.Root, tr io.Reader, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Name)
	if err != nil || rel == "." {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return escapeError(root.MkdirAll(rel, 0o700))
	case tar.TypeReg, tar.TypeRegA:
		if err := root.MkdirAll(pathDir(rel), 0o700); err != nil {
			return escapeError(err)
		}
		return escapeError(writeRootFile(root, rel, tr))
	default:
		return fmt.Errorf("an image layout holds only files and directories, not type %q: %w", hdr.Typeflag, errdefs.ErrInvalidArgument)
	}
}

func writeRootFile(root *os.Root, rel string, r io.Reader) error {
	f, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func pathDir(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[:i]
	}
	return "."
}

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

func (s *Service) importDockerArchive(ctx context.Context, path string) ([]Image, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
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
