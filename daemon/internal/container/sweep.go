package container

import (
	"context"
	"log/slog"
	"os"
	"regexp"
)

// orphanRE matches what sweep may remove: a container id, or the
// snapshot key of one of its image volumes.
var orphanRE = regexp.MustCompile(`^([0-9a-f]{64})(-iv[0-9]+)?$`)

// sweep removes what a CreateContainer cut short by a crash left behind
// for a container that has no record: its image volumes' mounts and
// snapshots and its volume directories. It runs at start, before CRI
// calls are served.
func (s *Service) sweep(ctx context.Context) {
	orphan := func(name string) (string, bool) {
		m := orphanRE.FindStringSubmatch(name)
		if m == nil {
			return "", false
		}
		s.mu.Lock()
		_, known := s.ctrs[m[1]]
		s.mu.Unlock()
		return m[1], !known
	}
	for _, name := range dirNames(s.dir("image-volumes")) {
		if id, ok := orphan(name); ok && id == name {
			if err := s.releaseImageVolumes(ctx, id); err != nil {
				slog.Warn("remove a crashed create's image volumes", "id", id, "error", err)
			}
		}
	}
	if keys, err := s.o.Snapshots.Keys(); err == nil {
		for _, key := range keys {
			if id, ok := orphan(key); ok && id != key {
				_ = s.o.Snapshots.Remove(ctx, key)
			}
		}
	}
	for _, name := range dirNames(s.containersDir()) {
		if id, ok := orphan(name); ok && id == name {
			_ = s.removeVolumes(id)
		}
	}
}

func dirNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
