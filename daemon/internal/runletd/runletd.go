// Package runletd wires the daemon together: directories, store, image
// service, CRI server on the unix socket, and shutdown.
package runletd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/cri"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/nri"
	"github.com/runlet/runlet/daemon/internal/shimmgr"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/store"
	"github.com/runlet/runlet/daemon/shim"
)

// shutdownGrace bounds how long in-flight calls may finish after SIGTERM.
const shutdownGrace = 10 * time.Second

// Daemon is runletd's state between Open and Close.
type Daemon struct {
	cfg    config.Config
	log    *slog.Logger
	db     *store.DB
	Images *images.Service
	// Snapshots makes container root filesystems over Images' layers.
	Snapshots *snapshot.Snapshotter

	// Version is runletd's, as NRI plugins are told it (set before Start).
	Version string

	// runtime, shims and nri exist once Start ran (serving, not importing).
	runtime cri.Runtime
	shims   *shimmgr.Manager
	nri     *nri.NRI
}

type configRuntime = config.Runtime

// Open creates the directories (0700), opens the store, the image service
// and the snapshotter.
func Open(cfg config.Config, log *slog.Logger) (*Daemon, error) {
	for _, d := range []string{cfg.Root, cfg.State} {
		if err := mkPrivateDir(d); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(filepath.Join(cfg.Root, "runlet.db"))
	if err != nil {
		return nil, err
	}
	img, err := images.New(images.Options{Root: filepath.Join(cfg.Root, "images"), DB: db, Config: cfg.Images, Logger: log})
	if err != nil {
		db.Close()
		return nil, err
	}
	snaps, err := snapshot.New(filepath.Join(cfg.Root, "snapshots"), img)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Daemon{cfg: cfg, log: log, db: db, Images: img, Snapshots: snaps}, nil
}

// Close stops serving shim events (shims and their pods keep running)
// and releases the store.
func (d *Daemon) Close() error {
	if d.runtime.Streaming != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		_ = d.runtime.Streaming.Close(ctx)
		cancel()
	}
	d.nri.Stop() // plugins runletd started go; pods stay
	if d.shims != nil {
		d.shims.Close(context.Background())
	}
	return d.db.Close()
}

// Serve serves CRI on the configured socket until ctx ends, then stops
// gracefully (in-flight calls get shutdownGrace) and removes the socket.
func (d *Daemon) Serve(ctx context.Context, version string) error {
	lis, err := shim.ListenUnix(d.cfg.Address)
	if err != nil {
		return err
	}
	defer os.Remove(d.cfg.Address)
	g := cri.New(d.Images, d.runtime, version, d.log).NewGRPCServer()
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(lis) }()
	d.log.Info("serving CRI", "address", d.cfg.Address, "version", version)
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", d.cfg.Address, err)
	case <-ctx.Done():
	}
	d.log.Info("shutting down")
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(shutdownGrace):
		g.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		d.log.Debug("server stopped", "err", err)
	}
	return nil
}

// mkPrivateDir creates dir with mode 0700, and tightens an existing one: root
// and state are runletd's alone.
func mkPrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}
