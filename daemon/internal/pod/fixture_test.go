package pod

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/pause"
	"github.com/runlet/runlet/daemon/internal/shimmgr/shimtest"
	"github.com/runlet/runlet/daemon/internal/snapshot"
	"github.com/runlet/runlet/daemon/internal/store"
	"github.com/runlet/runlet/runtimeclass"
)

// fixture is a pod service over a real store, image store (the built-in
// pause) and snapshotter in a temporary directory, with fake shims: the
// lifecycle runs in milliseconds, without root or runtimes.
type fixture struct {
	*Service
	dir   string
	opts  Options
	shims *shimtest.Manager
	ctrs  *fakeContainers
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "root", "runlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	img, err := images.New(images.Options{Root: filepath.Join(dir, "root", "images"), DB: db, Config: config.Images{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	pauseImage, err := pause.Image()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.Register(context.Background(), pause.Ref, pauseImage); err != nil {
		t.Fatal(err)
	}
	snaps, err := snapshot.New(filepath.Join(dir, "root", "snapshots"), img)
	if err != nil {
		t.Fatal(err)
	}
	handlers, err := runtimeclass.New("runc", map[string]runtimeclass.Runtime{"runc": {Shim: "/bin/true"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, shims: shimtest.NewManager(), ctrs: &fakeContainers{}}
	f.opts = Options{State: filepath.Join(dir, "state"), DB: db, Handlers: handlers, Shims: f.shims,
		Images: img, Snapshots: snaps, SandboxImage: pause.Ref}
	f.Service = f.reopen(t)
	return f
}

// reopen is a new service over the same store and directories: what the
// next runletd finds after this one stopped or crashed.
func (f *fixture) reopen(t *testing.T) *Service {
	t.Helper()
	s, err := New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	s.SetContainers(f.ctrs)
	return s
}

// podConfig is a host-network, host-IPC pod (no netns, no shm mount: nothing
// that needs root).
func podConfig(name string) *runtimeapi.PodSandboxConfig {
	host := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_NODE}
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "ns", Uid: "uid-" + name},
		Hostname: name,
		Linux:    &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: host}},
	}
}

// assertNothingLeft checks that no record, name, file, bundle, snapshot or
// live shim of any pod is left.
func (f *fixture) assertNothingLeft(t *testing.T, s *Service) {
	t.Helper()
	for _, b := range []string{bucket, namesBucket} {
		_ = f.opts.DB.ForEach(b, func(key string, _ []byte) error {
			t.Errorf("store bucket %s still holds %s", b, key)
			return nil
		})
	}
	if n := len(s.List(nil)); n != 0 {
		t.Errorf("%d pods listed", n)
	}
	for _, d := range []string{"sandboxes", filepath.Join("bundles", "k8s.io")} {
		if entries, _ := os.ReadDir(filepath.Join(f.opts.State, d)); len(entries) != 0 {
			t.Errorf("state/%s still holds %d entries", d, len(entries))
		}
	}
	if keys, _ := f.opts.Snapshots.Keys(); len(keys) != 0 {
		t.Errorf("snapshots left: %v", keys)
	}
}

// fakeContainers records what the pod service asks of its containers.
type fakeContainers struct{ stopped, removed, shimDied []string }

func (c *fakeContainers) StopAll(_ context.Context, id string) error {
	c.stopped = append(c.stopped, id)
	return nil
}

func (c *fakeContainers) RemoveAll(_ context.Context, id string) error {
	c.removed = append(c.removed, id)
	return nil
}

func (c *fakeContainers) ShimDied(_ context.Context, id string) { c.shimDied = append(c.shimDied, id) }
