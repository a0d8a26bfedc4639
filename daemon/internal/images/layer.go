package images

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// lease keeps layers from garbage collection while a pull or import that
// needs them is in flight.
func (s *Service) lease(diffIDs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range diffIDs {
		s.leases[d]++
	}
}

func (s *Service) unlease(diffIDs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range diffIDs {
		if s.leases[d]--; s.leases[d] <= 0 {
			delete(s.leases, d)
		}
	}
}

func (s *Service) hasLayer(diffID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.layers[diffID]
	return ok
}

// ensureLayer unpacks layer unless it is already in the store. Concurrent
// callers for one diffID share a single download and unpack.
func (s *Service) ensureLayer(ctx context.Context, diffID string, layer v1.Layer, fromRegistry bool) error {
	if s.hasLayer(diffID) {
		return nil
	}
	_, err := s.unpack.do(ctx, diffID, func(ctx context.Context) (struct{}, error) {
		if s.hasLayer(diffID) {
			return struct{}{}, nil
		}
		return struct{}{}, s.unpackNew(ctx, diffID, layer, fromRegistry)
	})
	return err
}

// unpackNew unpacks into a temporary directory, checks the content against
// diffID, and only then renames it into place and records it.
func (s *Service) unpackNew(ctx context.Context, diffID string, layer v1.Layer, fromRegistry bool) (err error) {
	tmp, err := os.MkdirTemp(s.tmpDir(), "layer-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := unpackStream(ctx, diffID, layer, fromRegistry, tmp); err != nil {
		return err
	}
	bytes, inodes, err := diskUsage(tmp)
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(tmp, s.LayerPath(diffID)); err != nil {
		return fmt.Errorf("commit layer %s: %w", diffID, err)
	}
	l := Layer{DiffID: diffID, Bytes: bytes, Inodes: inodes}
	if err := s.db.Put(bucketLayers, diffID, l); err != nil {
		os.RemoveAll(s.LayerPath(diffID))
		return err
	}
	s.layers[diffID] = l
	return nil
}

// writeBlob stores b under its digest d (checked) with mode 0600, atomically.
func (s *Service) writeBlob(d string, b []byte) error {
	if err := ValidateDigest(d); err != nil {
		return err
	}
	if digestOf(b) != d {
		return fmt.Errorf("blob does not match digest %s: %w", d, errdefs.ErrDataLoss)
	}
	if _, err := os.Stat(s.blobPath(d)); err == nil {
		return nil
	}
	f, err := os.CreateTemp(s.tmpDir(), "blob-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.blobPath(d))
}

// ReadBlob returns stored content (a manifest, index or config) by digest.
func (s *Service) ReadBlob(d string) ([]byte, error) {
	if err := ValidateDigest(d); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.blobPath(d))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
	}
	return b, err
}
