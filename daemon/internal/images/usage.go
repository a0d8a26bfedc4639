package images

import (
	"os"
	"path/filepath"
	"time"
)

// Usage is what the image filesystem holds.
type Usage struct {
	Mountpoint string // the directory holding the layers
	Bytes      int64  // allocated bytes of unpacked layers and stored content
	Inodes     int64  // inodes of unpacked layers and stored content
	Timestamp  time.Time
}

// Usage reports the real bytes and inodes the store holds: each unpacked
// layer as measured when it was unpacked, plus every content blob.
func (s *Service) Usage() (Usage, error) {
	s.mu.Lock()
	u := Usage{Mountpoint: filepath.Join(s.root, "layers"), Timestamp: time.Now()}
	for _, l := range s.layers {
		u.Bytes += l.Bytes
		u.Inodes += l.Inodes
	}
	s.mu.Unlock()
	entries, err := os.ReadDir(s.contentDir())
	if err != nil {
		return Usage{}, err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		u.Bytes += blocksOf(info)
		u.Inodes++
	}
	return u, nil
}
