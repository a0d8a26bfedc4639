// Package servicetest sets up what runletd's pod and container services
// work with, for their lifecycle tests: a real store, image store (with
// the built-in pause) and snapshotter in a temporary directory, a runtime
// handler, and fake shims. Nothing in it needs root or a runtime.
package servicetest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/pause"
	"github.com/runlet/runlet/daemon/internal/shimmgr/shimtest"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/store"
	"github.com/runlet/runlet/runtimeclass"
)

// World is one daemon's worth of services under a temporary directory.
type World struct {
	Root, State string
	DB          *store.DB
	Images      *images.Service
	Snapshots   *snapshot.Snapshotter
	// Handlers has one runtime, "runc" (the default), whose shim is
	// /bin/true: it is never started, Shims fakes it.
	Handlers *runtimeclass.Set
	Shims    *shimtest.Manager
}

// New makes a World for the test; its store closes at cleanup.
func New(t testing.TB) *World {
	t.Helper()
	dir := t.TempDir()
	w := &World{Root: filepath.Join(dir, "root"), State: filepath.Join(dir, "state"), Shims: shimtest.NewManager()}
	var err error
	if w.DB, err = store.Open(filepath.Join(w.Root, "runlet.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.DB.Close() })
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w.Images, err = images.New(images.Options{Root: filepath.Join(w.Root, "images"), DB: w.DB, Config: config.Images{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	img, err := pause.Image()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Images.Register(context.Background(), pause.Ref, img); err != nil {
		t.Fatal(err)
	}
	if w.Snapshots, err = snapshot.New(filepath.Join(w.Root, "snapshots"), w.Images); err != nil {
		t.Fatal(err)
	}
	if w.Handlers, err = runtimeclass.New("runc", map[string]runtimeclass.Runtime{"runc": {Shim: "/bin/true"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// AssertEmpty fails the test when a bucket holds a key.
func (w *World) AssertEmpty(t testing.TB, buckets ...string) {
	t.Helper()
	for _, b := range buckets {
		_ = w.DB.ForEach(b, func(key string, _ []byte) error {
			t.Errorf("store bucket %s still holds %s", b, key)
			return nil
		})
	}
}

// AssertNoEntries fails the test when a directory under State holds
// anything.
func (w *World) AssertNoEntries(t testing.TB, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if entries, _ := os.ReadDir(filepath.Join(w.State, d)); len(entries) != 0 {
			t.Errorf("state/%s still holds %d entries", d, len(entries))
		}
	}
}

// WaitForCalls waits until method was called n times, then gives any
// further call that a broken lock would let through a moment to arrive
// (calls block at the fake's gate, so the count shows them): a window for
// a broken runtime to show itself, never a reason for a correct one to
// fail.
func WaitForCalls(t testing.TB, m *shimtest.Manager, method string, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for m.Calls(method) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}
