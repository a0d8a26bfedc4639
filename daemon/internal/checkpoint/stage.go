package checkpoint

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// File names inside an archive (checkpointctl's).
const (
	ImagesDir     = "checkpoint"
	ConfigDump    = "config.dump"
	SpecDump      = "spec.dump"
	StatusDump    = "status.dump"
	RootfsDiffTar = "rootfs-diff.tar"
	DeletedFiles  = "deleted.files"
	ContainerLog  = "container.log"
	DumpLog       = "dump.log"
	StatsDump     = "stats-dump"
	// workDir is CRIU's work directory inside a stage; not archived.
	workDir = "work"
)

// Config is config.dump, with the JSON names checkpointctl, containerd
// and CRI-O use.
type Config struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	RootfsImage     string    `json:"rootfsImage,omitempty"`
	RootfsImageRef  string    `json:"rootfsImageRef,omitempty"`
	RootfsImageName string    `json:"rootfsImageName,omitempty"`
	OCIRuntime      string    `json:"runtime,omitempty"`
	CreatedTime     time.Time `json:"createdTime"`
	CheckpointedAt  time.Time `json:"checkpointedTime"`
}

// StagesDir is the directory of runletd's state that holds the stages.
const StagesDir = "checkpoints"

// Stage is a directory an archive is assembled in.
type Stage struct{ Dir string }

// Sweep removes the stages under parent, which only a runletd killed
// during a checkpoint leaves: call it at start, before any checkpoint.
func Sweep(parent string) error {
	entries, err := os.ReadDir(parent)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint stages: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			return fmt.Errorf("checkpoint stages: %w", err)
		}
	}
	return nil
}

// NewStage makes a fresh stage directory (0700) under parent.
func NewStage(parent, id string) (*Stage, error) {
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint stage: %w", err)
	}
	dir, err := os.MkdirTemp(parent, id+"-")
	if err != nil {
		return nil, fmt.Errorf("checkpoint stage: %w", err)
	}
	return &Stage{Dir: dir}, nil
}

// Remove deletes the stage and everything in it.
func (s *Stage) Remove() error { return os.RemoveAll(s.Dir) }

// ImagePath and WorkPath are where the runtime's CRIU dump goes.
func (s *Stage) ImagePath() string { return filepath.Join(s.Dir, ImagesDir) }
func (s *Stage) WorkPath() string  { return filepath.Join(s.Dir, workDir) }

// WriteJSON writes v as the stage's file name.
func (s *Stage) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return s.WriteFile(name, b)
}

// WriteFile writes data as the stage's file name.
func (s *Stage) WriteFile(name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(s.Dir, name), data, 0o600); err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return nil
}

// CopyFile copies src into the stage as name; a missing src is skipped
// when optional.
func (s *Stage) CopyFile(src, name string, optional bool) error {
	in, err := os.Open(src)
	if optional && os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(s.Dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return nil
}

// CRIULog is the end of the log CRIU wrote in the work directory (at most
// max bytes, from a line start), "" when there is none: what to tell the
// user when the runtime's checkpoint fails.
func (s *Stage) CRIULog(max int) string {
	b, err := os.ReadFile(filepath.Join(s.WorkPath(), DumpLog))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > max {
		b = b[len(b)-max:]
		for i, c := range b {
			if c == '\n' {
				b = b[i+1:]
				break
			}
		}
	}
	return string(b)
}

// KeepCRIUFiles moves CRIU's dump.log (work dir) and stats-dump (images
// dir) to the top of the stage, where checkpointctl looks, and drops the
// work dir.
func (s *Stage) KeepCRIUFiles() error {
	for src, name := range map[string]string{
		filepath.Join(s.WorkPath(), DumpLog):    DumpLog,
		filepath.Join(s.ImagePath(), StatsDump): StatsDump,
	} {
		if err := s.CopyFile(src, name, true); err != nil {
			return err
		}
	}
	return os.RemoveAll(s.WorkPath())
}
