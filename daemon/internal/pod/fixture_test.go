package pod

import (
	"context"
	"path/filepath"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/pause"
	"github.com/runlet/runlet/daemon/internal/servicetest"
	"github.com/runlet/runlet/daemon/internal/shimmgr/shimtest"
)

// fixture is a pod service in a servicetest.World: the lifecycle runs in
// milliseconds, without root or runtimes.
type fixture struct {
	*Service
	w     *servicetest.World
	opts  Options
	shims *shimtest.Manager
	ctrs  *fakeContainers
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := servicetest.New(t)
	f := &fixture{w: w, shims: w.Shims, ctrs: &fakeContainers{}}
	f.opts = Options{State: w.State, DB: w.DB, Handlers: w.Handlers, Shims: w.Shims,
		Images: w.Images, Snapshots: w.Snapshots, SandboxImage: pause.Ref}
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
	f.w.AssertEmpty(t, bucket, namesBucket)
	if n := len(s.List(nil)); n != 0 {
		t.Errorf("%d pods listed", n)
	}
	f.w.AssertNoEntries(t, "sandboxes", filepath.Join("bundles", "k8s.io"))
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
