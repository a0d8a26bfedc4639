package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/runlet/runlet/daemon/failpoint"
	"github.com/runlet/runlet/daemon/internal/config"
)

// addition is an image about to be registered, from a registry, a tarball or built in.
type addition struct {
	img         v1.Image
	repoTags    []string          // normalized repo:tag names to point at the image
	repoDigests []string          // normalized repo@digest names
	blobs       map[string][]byte // extra content to keep (an index), by digest
	pinned      bool
	from        string // for errors: where the image came from
	remote      bool   // layers come from a registry (compressed blobs)
}

// add unpacks a's layers (each at most once), stores its manifest and config,
// and commits the image record. The record is the commit point: on error
// everything this call unpacked that nothing else uses is removed again.
func (s *Service) add(ctx context.Context, a addition) (_ *Image, err error) {
	manifest, cfgRaw, cfg, err := readImage(a.img, a.from, s.limits)
	if err != nil {
		return nil, err
	}
	diffIDs, err := diffIDs(manifest, cfg, a.from)
	if err != nil {
		return nil, err
	}
	rawManifest, err := a.img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", a.from, err)
	}
	blobs := map[string][]byte{manifest.Config.Digest.String(): cfgRaw, digestOf(rawManifest): rawManifest}
	for d, b := range a.blobs {
		blobs[d] = b
	}
	s.lease(diffIDs, sortedKeys(blobs))
	defer func() {
		s.unlease(diffIDs, sortedKeys(blobs))
		if err != nil {
			s.collect()
		}
	}()
	if err := s.writeBlobs(blobs); err != nil {
		return nil, err
	}
	layers, err := a.img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: layers: %w", a.from, err)
	}
	if err := s.ensureLayers(ctx, diffIDs, layers, a.remote); err != nil {
		return nil, err
	}
	if a.remote { // the steps of PullImage
		failpoint.Hit(failpoint.ImageUnpacked)
	}
	a.pinned = a.pinned || s.isSandboxImage(a.repoTags) || s.isSandboxImage(a.repoDigests)
	img := &Image{ID: manifest.Config.Digest.String(), RepoTags: a.repoTags, RepoDigests: a.repoDigests,
		Size: imageSize(manifest), Layers: diffIDs, User: cfg.Config.User,
		Annotations: manifest.Annotations, Pinned: a.pinned}
	return s.commit(img, blobs)
}

// isSandboxImage tells whether one of names is the configured pause image.
func (s *Service) isSandboxImage(names []string) bool {
	for _, n := range names {
		if s.pinnedRef != "" && n == s.pinnedRef {
			return true
		}
	}
	return false
}

// maxParallelLayers bounds the layers downloaded and unpacked at once.
const maxParallelLayers = 3

// ensureLayers unpacks the missing layers, several at a time: each goes to
// its own directory, so their order does not matter until the mount.
func (s *Service) ensureLayers(ctx context.Context, diffIDs []string, layers []v1.Layer, remote bool) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelLayers)
	for i, l := range layers {
		g.Go(func() error { return s.ensureLayer(ctx, diffIDs[i], l, remote) })
	}
	return g.Wait()
}

// readImage reads the manifest and the config (bounded, verified against
// its digest), after checking every size the manifest declares against the
// limits: nothing is fetched whose size is unknown or over its limit.
func readImage(img v1.Image, from string, limits config.ImageLimits) (*v1.Manifest, []byte, *v1.ConfigFile, error) {
	manifest, err := img.Manifest()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: manifest: %w", from, err)
	}
	if err := ValidateDigest(manifest.Config.Digest.String()); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: config: %w", from, err)
	}
	if err := checkDeclaredSizes(manifest, limits); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", from, err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: config %s: %w", from, manifest.Config.Digest, classifyFetch(err))
	}
	if int64(len(raw)) > limits.MaxConfigBytes {
		return nil, nil, nil, tooLarge("config", manifest.Config.Digest.String(), int64(len(raw)), limits.MaxConfigBytes)
	}
	if digestOf(raw) != manifest.Config.Digest.String() {
		return nil, nil, nil, fmt.Errorf("%s: config does not match its digest %s: %w", from, manifest.Config.Digest, errdefs.ErrDataLoss)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: config %s: %v: %w", from, manifest.Config.Digest, err, errdefs.ErrFailedPrecondition)
	}
	return manifest, raw, cfg, nil
}

// checkDeclaredSizes refuses a config or layer descriptor whose size is
// missing (go-containerregistry would read such a blob without bound) or
// over its limit.
func checkDeclaredSizes(m *v1.Manifest, limits config.ImageLimits) error {
	if err := checkSize("config", m.Config, limits.MaxConfigBytes, "max_config_bytes"); err != nil {
		return err
	}
	for _, l := range m.Layers {
		if err := checkSize("layer", l, limits.MaxLayerBytes, "max_layer_bytes"); err != nil {
			return err
		}
	}
	return nil
}

func checkSize(kind string, d v1.Descriptor, limit int64, key string) error {
	if d.Size < 0 {
		return fmt.Errorf("%s %s declares size %d; a size is required: %w", kind, d.Digest, d.Size, errdefs.ErrFailedPrecondition)
	}
	if d.Size > limit {
		return fmt.Errorf("%s %s is %d bytes, over the limit of %d (images.%s): %w", kind, d.Digest, d.Size, limit, key, errdefs.ErrFailedPrecondition)
	}
	return nil
}

func diffIDs(m *v1.Manifest, cfg *v1.ConfigFile, from string) ([]string, error) {
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s: config lists %d layers, manifest %d: %w", from,
			len(cfg.RootFS.DiffIDs), len(m.Layers), errdefs.ErrFailedPrecondition)
	}
	ids := make([]string, len(cfg.RootFS.DiffIDs))
	for i, d := range cfg.RootFS.DiffIDs {
		if err := ValidateDigest(d.String()); err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", from, i, err)
		}
		ids[i] = d.String()
	}
	return ids, nil
}

func imageSize(m *v1.Manifest) uint64 {
	size := m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return uint64(size)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// commit stores blobs and the image record, merging it with a record of the
// same ID and moving its tags away from the images that had them.
func (s *Service) commit(img *Image, blobs map[string][]byte) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, b := range blobs {
		if err := s.writeBlob(d, b); err != nil {
			return nil, err
		}
	}
	if old, ok := s.images[img.ID]; ok {
		img.RepoTags = union(old.RepoTags, img.RepoTags)
		img.RepoDigests = union(old.RepoDigests, img.RepoDigests)
		img.Pinned = img.Pinned || old.Pinned
	}
	img.Blobs = union(s.imageBlobsLocked(img.ID), sortedKeys(blobs))
	for _, tag := range img.RepoTags {
		if err := s.untagLocked(tag, img.ID); err != nil {
			return nil, err
		}
	}
	if err := s.saveImageLocked(img); err != nil {
		return nil, err
	}
	for _, r := range append(append([]string{}, img.RepoTags...), img.RepoDigests...) {
		s.refs[r] = img.ID
	}
	c := img.clone()
	return &c, nil
}

// untagLocked removes tag from whichever other image holds it. Caller holds s.mu.
func (s *Service) untagLocked(tag, keep string) error {
	id, ok := s.refs[tag]
	if !ok || id == keep {
		return nil
	}
	other := s.images[id]
	other.RepoTags = slices.DeleteFunc(slices.Clone(other.RepoTags), func(t string) bool { return t == tag })
	delete(s.refs, tag)
	return s.saveImageLocked(other)
}

func (s *Service) imageBlobsLocked(id string) []string {
	if img, ok := s.images[id]; ok {
		return img.Blobs
	}
	return nil
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
