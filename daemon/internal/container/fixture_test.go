package container

import (
	"context"
	"path/filepath"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/pause"
	"github.com/runlet/runlet/daemon/internal/pod"
	"github.com/runlet/runlet/daemon/internal/servicetest"
	task "github.com/runlet/runlet/proto/task/v2"
)

var ctx = context.Background()

// fixture is a container service beside a pod service in a
// servicetest.World (fake shims), with one ready host-network pod.
type fixture struct {
	*Service
	w    *servicetest.World
	opts Options
	pod  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := servicetest.New(t)
	pods, err := pod.New(pod.Options{State: w.State, DB: w.DB, Handlers: w.Handlers, Shims: w.Shims,
		Images: w.Images, Snapshots: w.Snapshots, SandboxImage: pause.Ref})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{w: w, opts: Options{State: w.State, Root: w.Root, DB: w.DB, Pods: pods, Shims: w.Shims,
		Images: w.Images, Snapshots: w.Snapshots}}
	f.Service = f.reopen(t)
	host := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_NODE}
	f.pod, err = pods.Run(ctx, &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"},
		Linux:    &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: host}},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// reopen is a new container service over the same store and directories:
// what the next runletd finds (the pod service is shared: the fake shims
// outlive both).
func (f *fixture) reopen(t *testing.T) *Service {
	t.Helper()
	s, err := New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Pods.SetContainers(s)
	return s
}

// ctrConfig runs the pause image: it is in every World's image store.
func ctrConfig(name string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image: &runtimeapi.ImageSpec{Image: pause.Ref}}
}

// assertNothingLeft checks that no container record, name, bundle, FIFO
// or snapshot is left (the pod's own remain).
func (f *fixture) assertNothingLeft(t *testing.T, s *Service) {
	t.Helper()
	f.w.AssertEmpty(t, bucket, namesBucket)
	if n := len(s.List(nil)); n != 0 {
		t.Errorf("%d containers listed", n)
	}
	f.w.AssertNoEntries(t, "fifo")
	entries, _ := filepath.Glob(filepath.Join(f.w.State, "bundles", "k8s.io", "*"))
	if len(entries) != 1 {
		t.Errorf("bundles left beside the pod's: %v", entries)
	}
	if keys, _ := f.opts.Snapshots.Keys(); len(keys) != 1 || keys[0] != f.pod {
		t.Errorf("snapshots left beside the pod's: %v", keys)
	}
}

func (f *fixture) mustCreate(t *testing.T, name string) string {
	t.Helper()
	id, err := f.Create(ctx, f.pod, ctrConfig(name))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func startRequest(id string) *task.StartRequest { return &task.StartRequest{Id: id} }
