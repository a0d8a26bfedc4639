package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
)

const (
	dirMode    = 0o700
	rootfsMode = 0o711
)

// Bundle is an OCI bundle directory.
type Bundle struct {
	// Path is the absolute path of the bundle directory.
	Path string
	// ID is the container id; the last element of Path.
	ID string
}

// mkdirRootfs creates the rootfs mount point. Tests replace it to inject a
// failure after config.json was written.
var mkdirRootfs = mkdirExact

// New creates the bundle stateDir/namespace/id holding spec as config.json
// and an empty rootfs/ directory. An existing bundle is
// errdefs.ErrAlreadyExists. On any error nothing of the bundle is left
// behind; stateDir/namespace is kept, as other bundles share it.
func New(ctx context.Context, stateDir, namespace, id string, spec []byte) (*Bundle, error) {
	if err := validateNewArgs(stateDir, namespace, id, spec); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parent := filepath.Join(stateDir, namespace)
	if err := os.MkdirAll(parent, dirMode); err != nil {
		return nil, fmt.Errorf("create bundle namespace dir: %w", classifyFSError(err))
	}
	b := &Bundle{Path: filepath.Join(parent, id), ID: id}
	if err := mkdirExact(b.Path, dirMode); err != nil {
		return nil, fmt.Errorf("create bundle %s: %w", id, classifyFSError(err))
	}
	if err := populate(b.Path, spec); err != nil {
		if rmErr := os.RemoveAll(b.Path); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("clean up bundle: %w", rmErr))
		}
		return nil, err
	}
	return b, nil
}

func validateNewArgs(stateDir, namespace, id string, spec []byte) error {
	if !filepath.IsAbs(stateDir) {
		return fmt.Errorf("bundle state dir %q is not absolute: %w", stateDir, errdefs.ErrInvalidArgument)
	}
	if err := ValidateID(namespace); err != nil {
		return fmt.Errorf("bundle namespace: %w", err)
	}
	if err := ValidateID(id); err != nil {
		return fmt.Errorf("bundle id: %w", err)
	}
	if !json.Valid(spec) {
		return fmt.Errorf("bundle %s: spec is not valid JSON: %w", id, errdefs.ErrInvalidArgument)
	}
	return nil
}

// populate writes config.json and creates rootfs/ in a fresh bundle dir.
func populate(path string, spec []byte) error {
	if err := writeFileAtomic(ConfigPath(path), spec, configMode); err != nil {
		return err
	}
	if err := mkdirRootfs(RootfsPath(path), rootfsMode); err != nil {
		return fmt.Errorf("create bundle rootfs: %w", classifyFSError(err))
	}
	return nil
}

// mkdirExact creates dir with exactly mode, whatever the umask.
func mkdirExact(dir string, mode fs.FileMode) error {
	if err := os.Mkdir(dir, mode); err != nil {
		return err
	}
	return os.Chmod(dir, mode)
}

// Load returns the bundle at path, which must be an existing directory whose
// name is a valid id. config.json is not required, so that a half-made
// bundle can still be deleted.
func Load(path string) (*Bundle, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("bundle path %q is not absolute: %w", path, errdefs.ErrInvalidArgument)
	}
	path = filepath.Clean(path)
	id := filepath.Base(path)
	if err := ValidateID(id); err != nil {
		return nil, fmt.Errorf("bundle id: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load bundle: %w", classifyFSError(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("load bundle: %s is not a directory: %w", path, errdefs.ErrInvalidArgument)
	}
	return &Bundle{Path: path, ID: id}, nil
}

// Rootfs returns the path of the bundle's rootfs mount point.
func (b *Bundle) Rootfs() string { return RootfsPath(b.Path) }

// Config returns the path of the bundle's config.json.
func (b *Bundle) Config() string { return ConfigPath(b.Path) }

// Delete unmounts everything mounted at or below the bundle (the rootfs,
// stacked mounts included) and removes the bundle directory. A bundle that
// is already gone is not an error. Delete never removes files through a
// mount: if a mount cannot be removed, the directory stays.
func (b *Bundle) Delete(ctx context.Context) error {
	if b == nil || !filepath.IsAbs(b.Path) || filepath.Clean(b.Path) == "/" {
		return fmt.Errorf("delete bundle: invalid path: %w", errdefs.ErrInvalidArgument)
	}
	if err := UnmountAll(ctx, b.Path); err != nil {
		return fmt.Errorf("delete bundle %s: %w", b.ID, err)
	}
	if err := os.RemoveAll(b.Path); err != nil {
		return fmt.Errorf("delete bundle %s: %w", b.ID, err)
	}
	return nil
}
