package container

import (
	"path/filepath"

	"github.com/runlet/runlet/fifo"
)

// logBeneath is a container's CRI log as the directory every open
// resolves beneath (the pod's log directory) and the path inside it.
func (s *Service) logBeneath(c *Container) (dir, rel string, err error) {
	if dir = s.logDir(c); dir == "" {
		return filepath.Dir(c.LogPath), filepath.Base(c.LogPath), nil
	}
	return fifo.SplitLogPath(dir, c.LogPath)
}

// logDir is the log directory of a container's pod ("" when the pod or
// its config is gone: the log is then confined to its own directory).
func (s *Service) logDir(c *Container) string {
	sb, err := s.o.Pods.Get(c.SandboxID)
	if err != nil {
		return ""
	}
	cfg, err := sb.CRIConfig()
	if err != nil {
		return ""
	}
	return cfg.GetLogDirectory()
}
