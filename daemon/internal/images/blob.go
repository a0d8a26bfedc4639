package images

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"
)

// writeBlobs stores every blob (digest -> content), each synced to disk.
func (s *Service) writeBlobs(blobs map[string][]byte) error {
	for _, d := range sortedKeys(blobs) {
		if err := s.writeBlob(d, blobs[d]); err != nil {
			return err
		}
	}
	return nil
}

// writeBlob stores b under its digest d (checked) with mode 0600,
// atomically and durably: the file is synced before it is renamed into
// place and the directory after, so a record written next never points to
// content a power loss could take back.
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
	noteSync("blob", d)
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync blob %s: %w", d, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), s.blobPath(d)); err != nil {
		return err
	}
	return syncDir(s.contentDir())
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
