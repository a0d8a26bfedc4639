// Package snapshot makes a container's root filesystem: an overlay of its
// image's unpacked layers (read-only, shared) with the container's own upper
// and work directories. It returns the mounts for the shim; it mounts nothing
// itself.
package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/proto/types"
)

// Layers is what the image service offers: it keeps an image's layers while
// a holder uses them and says where they are (bottom first).
type Layers interface {
	Hold(ctx context.Context, holder, image string) (dirs []string, imageID string, err error)
	Release(ctx context.Context, holder string) error
}

// Snapshotter keeps one directory per container snapshot under its root.
type Snapshotter struct {
	root   string
	layers Layers
}

// keyRE bounds snapshot keys (container IDs): they become directory names.
var keyRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

const mountsFile = "mounts.json"

// New keeps snapshots under root (created 0700).
func New(root string, layers Layers) (*Snapshotter, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(root, 0o700); err != nil {
		return nil, err
	}
	return &Snapshotter{root: root, layers: layers}, nil
}

// Prepare creates the snapshot key over image and returns its rootfs mounts.
// A key in use is errdefs.ErrAlreadyExists; a bad key InvalidArgument; an
// unknown image NotFound. On error nothing is left.
func (s *Snapshotter) Prepare(ctx context.Context, key, image string) ([]*types.Mount, error) {
	return s.create(ctx, key, image, s.makeDirs)
}

// View creates the snapshot key as a read-only view of image (an image
// volume, KEP 4639): an overlay of its layers with no upper directory, a
// read-only bind of its only layer, or of an empty directory for an image
// without layers. Errors are Prepare's; Remove releases it.
func (s *Snapshotter) View(ctx context.Context, key, image string) ([]*types.Mount, error) {
	return s.create(ctx, key, image, viewMounts)
}

// create makes the snapshot directory, holds the image's layers and
// records the mounts mk describes; on error it leaves nothing.
func (s *Snapshotter) create(ctx context.Context, key, image string, mk func(dir string, lowers []string) ([]*types.Mount, error)) (_ []*types.Mount, err error) {
	if !keyRE.MatchString(key) {
		return nil, fmt.Errorf("snapshot key %q: letters, digits, '_', '.', '-', at most 128: %w", key, errdefs.ErrInvalidArgument)
	}
	dir := filepath.Join(s.root, key)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if os.IsExist(err) {
			return nil, fmt.Errorf("snapshot %s: %w", key, errdefs.ErrAlreadyExists)
		}
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			s.layers.Release(context.WithoutCancel(ctx), holder(key))
		}
	}()
	lowers, _, err := s.layers.Hold(ctx, holder(key), image)
	if err != nil {
		return nil, err
	}
	mounts, err := mk(dir, lowers)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(mounts)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, mountsFile), data, 0o600); err != nil {
		return nil, err
	}
	return mounts, nil
}

func holder(key string) string { return "snapshot/" + key }

// makeDirs creates upper (the container's "/", 0755) and work, and
// describes the overlay: lowerdir lists the top layer first.
func (s *Snapshotter) makeDirs(dir string, lowers []string) ([]*types.Mount, error) {
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	if err := os.Mkdir(upper, 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(work, 0o700); err != nil {
		return nil, err
	}
	if len(lowers) == 0 {
		return []*types.Mount{{Type: "bind", Source: upper, Options: []string{"rbind", "rw"}}}, nil
	}
	top := slices.Clone(lowers)
	slices.Reverse(top)
	return []*types.Mount{{Type: "overlay", Source: "overlay", Options: []string{
		"index=off",
		"lowerdir=" + strings.Join(top, ":"),
		"upperdir=" + upper,
		"workdir=" + work,
	}}}, nil
}

// viewMounts describes a read-only view of lowers (bottom first). An
// overlay without an upper directory is read-only and needs two lower
// directories at least.
func viewMounts(dir string, lowers []string) ([]*types.Mount, error) {
	switch len(lowers) {
	case 0:
		empty := filepath.Join(dir, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return nil, err
		}
		return []*types.Mount{{Type: "bind", Source: empty, Options: []string{"rbind", "ro"}}}, nil
	case 1:
		return []*types.Mount{{Type: "bind", Source: lowers[0], Options: []string{"rbind", "ro"}}}, nil
	}
	top := slices.Clone(lowers)
	slices.Reverse(top)
	return []*types.Mount{{Type: "overlay", Source: "overlay", Options: []string{
		"ro",
		"lowerdir=" + strings.Join(top, ":"),
	}}}, nil
}

// Mounts returns the mounts of an existing snapshot.
func (s *Snapshotter) Mounts(key string) ([]*types.Mount, error) {
	if !keyRE.MatchString(key) {
		return nil, fmt.Errorf("snapshot key %q: %w", key, errdefs.ErrInvalidArgument)
	}
	data, err := os.ReadFile(filepath.Join(s.root, key, mountsFile))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("snapshot %s: %w", key, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var mounts []*types.Mount
	return mounts, json.Unmarshal(data, &mounts)
}

// Keys lists the snapshots' keys.
func (s *Snapshotter) Keys() ([]string, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range entries {
		if e.IsDir() && keyRE.MatchString(e.Name()) {
			keys = append(keys, e.Name())
		}
	}
	return keys, nil
}

// Remove deletes the snapshot (its rootfs must be unmounted by then) and
// lets the image service free layers nothing else uses. Removing an absent
// snapshot is not an error.
func (s *Snapshotter) Remove(ctx context.Context, key string) error {
	if !keyRE.MatchString(key) {
		return fmt.Errorf("snapshot key %q: %w", key, errdefs.ErrInvalidArgument)
	}
	if err := os.RemoveAll(filepath.Join(s.root, key)); err != nil {
		return fmt.Errorf("remove snapshot %s: %w", key, err)
	}
	return s.layers.Release(ctx, holder(key))
}
