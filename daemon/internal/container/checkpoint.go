package container

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/daemon/internal/checkpoint"
	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
)

// Checkpoint writes a checkpoint archive of a running container at
// location (an absolute path whose directory exists), in containerd's and
// CRI-O's format (package checkpoint): the shim's Checkpoint dumps the
// processes with CRIU, leaving them running, into a stage under
// state/checkpoints, which becomes the archive whole or not at all; the
// stage goes in every case. A runtime or host that cannot checkpoint
// (no CRIU, or CRIU that cannot run on this kernel) fails the call with
// CRIU's own words and nothing written at location.
func (s *Service) Checkpoint(ctx context.Context, id, location string) error {
	if !filepath.IsAbs(location) {
		return fmt.Errorf("checkpoint location %q is not an absolute path: %w", location, errdefs.ErrInvalidArgument)
	}
	if st, err := os.Stat(filepath.Dir(location)); err != nil || !st.IsDir() {
		return fmt.Errorf("checkpoint location %q: its directory does not exist: %w", location, errdefs.ErrInvalidArgument)
	}
	c, t, err := s.running(id)
	if err != nil {
		return err
	}
	stage, err := checkpoint.NewStage(s.dir(checkpoint.StagesDir), c.ID)
	if err != nil {
		return err
	}
	defer stage.Remove()
	if err := s.stageMetadata(ctx, stage, &c); err != nil {
		return err
	}
	if err := dumpTask(ctx, t, &c, stage); err != nil {
		return err
	}
	if err := stage.KeepCRIUFiles(); err != nil {
		return err
	}
	upper, err := s.upperDir(c.ID)
	if err != nil {
		return err
	}
	if err := stage.WriteRootfsDiff(upper); err != nil {
		return err
	}
	if c.LogPath != "" {
		if err := stage.CopyFile(c.LogPath, checkpoint.ContainerLog, true); err != nil {
			return err
		}
	}
	return stage.Archive(location)
}

// stageMetadata writes config.dump, spec.dump and status.dump.
func (s *Service) stageMetadata(ctx context.Context, stage *checkpoint.Stage, c *Container) error {
	st, _, err := s.Status(c.ID, false)
	if err != nil {
		return err
	}
	cfg := checkpoint.Config{ID: c.ID, Name: c.Name, RootfsImage: st.GetImage().GetImage(),
		RootfsImageRef: st.GetImageRef(), RootfsImageName: st.GetImage().GetImage(),
		CreatedTime: time.Unix(0, c.CreatedAt).UTC(), CheckpointedAt: time.Now().UTC()}
	if sb, err := s.o.Pods.Get(c.SandboxID); err == nil {
		if h, err := s.o.Pods.Handler(sb.Handler); err == nil {
			cfg.OCIRuntime = filepath.Base(h.Shim)
		}
	}
	if err := stage.WriteJSON(checkpoint.ConfigDump, cfg); err != nil {
		return err
	}
	if err := stage.CopyFile(filepath.Join(c.Bundle, "config.json"), checkpoint.SpecDump, false); err != nil {
		return err
	}
	return stage.WriteJSON(checkpoint.StatusDump, st)
}

// dumpTask asks the shim to dump the container's processes with CRIU into
// the stage, leaving them running (kubelet's forensic checkpoints).
func dumpTask(ctx context.Context, t task.TaskService, c *Container, stage *checkpoint.Stage) error {
	opts, err := proto.Marshal(&options.CheckpointOptions{Exit: false, ImagePath: stage.ImagePath(), WorkPath: stage.WorkPath()})
	if err != nil {
		return err
	}
	for _, d := range []string{stage.ImagePath(), stage.WorkPath()} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("checkpoint stage: %w", err)
		}
	}
	_, err = t.Checkpoint(ctx, &task.CheckpointTaskRequest{Id: c.ID, Path: stage.ImagePath(),
		Options: &anypb.Any{TypeUrl: "containerd.runc.v1.CheckpointOptions", Value: opts}})
	if err == nil {
		return nil
	}
	var log string
	if l := stage.CRIULog(2048); l != "" {
		log = "\nCRIU's log ends:\n" + strings.TrimRight(l, "\n")
	}
	if errdefs.IsNotImplemented(err) || errdefs.IsNotFound(err) || errdefs.IsFailedPrecondition(err) ||
		errdefs.IsCanceled(err) || errdefs.IsDeadlineExceeded(err) {
		return fmt.Errorf("checkpoint container %q: the runtime's checkpoint (CRIU) failed: %w%s", c.ID, err, log)
	}
	// CRIU failing on this host (missing, too old, or unable to run on
	// this kernel): the node cannot checkpoint, the request is fine.
	return fmt.Errorf("checkpoint container %q: the runtime's checkpoint (CRIU) failed: %v: %w%s", c.ID, err, errdefs.ErrFailedPrecondition, log)
}
