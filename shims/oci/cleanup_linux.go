package oci

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runlet/runlet/bundle"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/shims/internal/reaper"
)

// Cleanup is the `shim delete` action: it removes what a task left behind
// when its shim is gone. It force-deletes the task from the runtime it was
// created with (recorded in the bundle), unmounts the rootfs and reports
// the task as killed (exit status 128+SIGKILL), as containerd's shims do.
func Cleanup(ctx context.Context, defaultBinary, namespace, id, bundlePath string) (*task.DeleteResponse, error) {
	rec, err := readRuntimeRecord(bundlePath)
	if err != nil {
		rec = recordFor(defaultBinary, namespace, nil)
	}
	r := newRuntime(bundlePath, rec)
	if err := r.Delete(ctx, id, &runc.DeleteOpts{Force: true}); err != nil && !isNotRunning(err) {
		// The runtime may never have seen the task; cleanup goes on.
		slog.Warn("runtime delete", "id", id, "error", runtimeError(bundlePath, "delete", err))
	}
	if err := bundle.UnmountAll(ctx, bundle.RootfsPath(bundlePath)); err != nil {
		return nil, err
	}
	pid, _ := runc.ReadPidFile(filepath.Join(bundlePath, "init.pid"))
	return &task.DeleteResponse{
		Pid:        uint32(max(pid, 0)),
		ExitStatus: uint32(reaper.KilledBy(unix.SIGKILL)),
		ExitedAt:   timestamppb.New(time.Now()),
	}, nil
}
