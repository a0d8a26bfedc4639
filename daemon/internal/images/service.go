// Package images is runletd's image service: a content-addressed store of
// manifests and configs, layers unpacked once each into directories shared by
// every image that has them, pulls from registries (mirrors, auth, plain HTTP
// only where configured), imports of image tarballs, and garbage collection.
package images

import (
	"fmt"
	"github.com/runlet/runlet/daemon/internal/keylock"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/store"
)

// Store buckets.
const (
	bucketImages  = "images"
	bucketLayers  = "layers"
	bucketHolders = "layer-holders"
)

// Options configure a Service.
type Options struct {
	Root     string // persistent directory; the service owns root/content, root/layers, root/tmp
	DB       *store.DB
	Config   config.Images
	Platform v1.Platform // zero: linux and the host's architecture
	Logger   *slog.Logger
}

// Service is the image store and puller. It is safe for concurrent use.
type Service struct {
	root string
	db   *store.DB
	reg  *registries
	// limits bound what a registry or a layer may cost; read-only.
	limits config.ImageLimits
	log    *slog.Logger
	// pinnedRef is the configured sandbox image, normalized; pulls and
	// imports of it are pinned. "" when the built-in pause is used.
	pinnedRef string

	pulls  keylock.Flights[string]   // one pull per normalized reference at a time
	unpack keylock.Flights[struct{}] // one unpack per layer diffID at a time

	mu         sync.Mutex
	images     map[string]*Image   // by ID; guarded by mu
	refs       map[string]string   // repo tag or repo digest -> ID; guarded by mu
	layers     map[string]Layer    // committed layers by diffID; guarded by mu
	leases     map[string]int      // diffID -> pulls in flight that need it; guarded by mu
	blobLeases map[string]int      // content digest -> pulls in flight that wrote it; guarded by mu
	holders    map[string][]string // holder (container snapshot) -> diffIDs it uses; guarded by mu
}

// Image is one image in the store, keyed by its config digest.
type Image struct {
	ID          string            `json:"id"` // config digest
	RepoTags    []string          `json:"repo_tags,omitempty"`
	RepoDigests []string          `json:"repo_digests,omitempty"`
	Size        uint64            `json:"size"`   // config and compressed layers, as the manifest says
	Layers      []string          `json:"layers"` // diffIDs, bottom first
	Blobs       []string          `json:"blobs"`  // content this image keeps: config, manifests, indexes
	User        string            `json:"user,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Pinned      bool              `json:"pinned,omitempty"`
}

// Layer is an unpacked layer directory and what it costs on disk.
type Layer struct {
	DiffID string `json:"diff_id"`
	Bytes  int64  `json:"bytes"`
	Inodes int64  `json:"inodes"`
}

// New opens the image store under opts.Root, dropping whatever an
// interrupted pull or import left behind.
func New(opts Options) (*Service, error) {
	if opts.Platform.OS == "" {
		opts.Platform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{
		root: opts.Root, db: opts.DB, log: opts.Logger, limits: opts.Config.ImageLimits.WithDefaults(),
		reg:    newRegistries(opts.Config, opts.Platform),
		images: map[string]*Image{}, refs: map[string]string{}, layers: map[string]Layer{},
		leases: map[string]int{}, blobLeases: map[string]int{}, holders: map[string][]string{},
	}
	if opts.Config.PauseImage != "" {
		r, err := ParseReference(opts.Config.PauseImage)
		if err != nil {
			return nil, fmt.Errorf("images.pause_image: %w", err)
		}
		s.pinnedRef = r.String()
	}
	for _, d := range []string{s.root, s.contentDir(), s.layersDir(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) contentDir() string { return filepath.Join(s.root, "content", "sha256") }
func (s *Service) layersDir() string  { return filepath.Join(s.root, "layers", "sha256") }
func (s *Service) tmpDir() string     { return filepath.Join(s.root, "tmp") }

// blobPath is where a content digest is stored; d must have passed ValidateDigest.
func (s *Service) blobPath(d string) string {
	return filepath.Join(s.contentDir(), strings.TrimPrefix(d, "sha256:"))
}

// LayerPath is the directory of an unpacked layer; diffID must have passed ValidateDigest.
func (s *Service) LayerPath(diffID string) string {
	return filepath.Join(s.layersDir(), strings.TrimPrefix(diffID, "sha256:"))
}

// LayersRoot is the directory holding every unpacked layer (image filesystem).
func (s *Service) LayersRoot() string { return filepath.Join(s.root, "layers") }
