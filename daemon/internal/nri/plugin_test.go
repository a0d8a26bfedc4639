package nri

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/container"
	"github.com/runlet/runlet/daemon/internal/pod"
)

var ctx = context.Background()

// testPlugin is an NRI plugin (through NRI's own stub) that records the
// events it gets, as "Event id", and answers as the test sets it up.
type testPlugin struct {
	configured, synced chan struct{}
	// adjust is CreateContainer's answer; failCreate and failRun refuse.
	adjust              *api.ContainerAdjustment
	failCreate, failRun error
	// memoryLimit, when set, is UpdateContainer's answer.
	memoryLimit int64
	// syncing, when set, is closed as Synchronize begins, which then
	// waits for holdSync to close.
	syncing, holdSync chan struct{}

	mu               sync.Mutex
	events           []string // guarded by mu
	syncedPods, ctrs []string // guarded by mu; the synchronisation's
}

func newTestPlugin() *testPlugin {
	return &testPlugin{configured: make(chan struct{}), synced: make(chan struct{})}
}

func (p *testPlugin) record(event, id string) {
	p.mu.Lock()
	p.events = append(p.events, event+" "+id)
	p.mu.Unlock()
}

func (p *testPlugin) Events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

func (p *testPlugin) Configure(context.Context, string, string, string) (api.EventMask, error) {
	close(p.configured)
	return 0, nil // every event the plugin implements
}

func (p *testPlugin) Synchronize(_ context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	p.mu.Lock()
	for _, sb := range pods {
		p.syncedPods = append(p.syncedPods, sb.GetId())
	}
	for _, c := range ctrs {
		p.ctrs = append(p.ctrs, c.GetId())
	}
	p.mu.Unlock()
	if p.syncing != nil {
		close(p.syncing)
		<-p.holdSync
	}
	close(p.synced)
	return nil, nil
}

func (p *testPlugin) RunPodSandbox(_ context.Context, sb *api.PodSandbox) error {
	p.record("RunPodSandbox", sb.GetId()+"("+sb.GetName()+")")
	return p.failRun
}

func (p *testPlugin) UpdatePodSandbox(_ context.Context, sb *api.PodSandbox, _, res *api.LinuxResources) error {
	p.record("UpdatePodSandbox", fmt.Sprintf("%s(cpu shares %d)", sb.GetId(), res.GetCpu().GetShares().GetValue()))
	return nil
}

func (p *testPlugin) PostUpdatePodSandbox(_ context.Context, sb *api.PodSandbox) error {
	p.record("PostUpdatePodSandbox", sb.GetId())
	return nil
}

func (p *testPlugin) StopPodSandbox(_ context.Context, sb *api.PodSandbox) error {
	p.record("StopPodSandbox", sb.GetId())
	return nil
}

func (p *testPlugin) RemovePodSandbox(_ context.Context, sb *api.PodSandbox) error {
	p.record("RemovePodSandbox", sb.GetId())
	return nil
}

func (p *testPlugin) CreateContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	p.record("CreateContainer", c.GetId()+"("+c.GetName()+")")
	return p.adjust, nil, p.failCreate
}

func (p *testPlugin) PostCreateContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) error {
	p.record("PostCreateContainer", c.GetId())
	return nil
}

func (p *testPlugin) StartContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) error {
	p.record("StartContainer", c.GetId())
	return nil
}

func (p *testPlugin) PostStartContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) error {
	p.record("PostStartContainer", c.GetId())
	return nil
}

func (p *testPlugin) UpdateContainer(_ context.Context, _ *api.PodSandbox, c *api.Container, _ *api.LinuxResources) ([]*api.ContainerUpdate, error) {
	p.record("UpdateContainer", c.GetId())
	if p.memoryLimit == 0 {
		return nil, nil
	}
	u := &api.ContainerUpdate{}
	u.SetContainerId(c.GetId())
	u.SetLinuxMemoryLimit(p.memoryLimit)
	return []*api.ContainerUpdate{u}, nil
}

func (p *testPlugin) PostUpdateContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) error {
	p.record("PostUpdateContainer", c.GetId())
	return nil
}

func (p *testPlugin) StopContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) ([]*api.ContainerUpdate, error) {
	p.record("StopContainer", c.GetId())
	return nil, nil
}

func (p *testPlugin) RemoveContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) error {
	p.record("RemoveContainer", c.GetId())
	return nil
}

// fakeRuntime is the pods and containers NRI reports and the changes it
// asks for.
type fakeRuntime struct {
	mu      sync.Mutex
	pods    []pod.Sandbox                    // guarded by mu
	ctrs    []container.Container            // guarded by mu
	updates map[string]*specs.LinuxResources // guarded by mu; by id
	evicted []string                         // guarded by mu
}

func (r *fakeRuntime) ListPods() []pod.Sandbox {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pods)
}

func (r *fakeRuntime) ListContainers() []container.Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ctrs)
}

func (r *fakeRuntime) addContainer(c container.Container) {
	r.mu.Lock()
	r.ctrs = append(r.ctrs, c)
	r.mu.Unlock()
}

func (r *fakeRuntime) UpdateContainer(_ context.Context, id string, res *specs.LinuxResources) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.updates == nil {
		r.updates = map[string]*specs.LinuxResources{}
	}
	r.updates[id] = res
	return nil
}

func (r *fakeRuntime) EvictContainer(_ context.Context, id string) error {
	r.mu.Lock()
	r.evicted = append(r.evicted, id)
	r.mu.Unlock()
	return nil
}

// startNRI starts NRI over rt with its socket in a temporary directory;
// it stops at cleanup.
func startNRI(t *testing.T, rt Runtime) (*NRI, string) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "nri.sock")
	n, err := New(config.NRI{SocketPath: sock, PluginPath: filepath.Join(dir, "plugins"),
		PluginConfigPath: filepath.Join(dir, "conf.d"), PluginRegistrationTimeout: "10s", PluginRequestTimeout: "10s"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	n.Attach(rt)
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n, sock
}

// connect connects p as plugin idx-name and returns once NRI configured
// it (its synchronisation may still be under way); it disconnects at
// cleanup.
func connect(t *testing.T, sock string, p *testPlugin, name, idx string) stub.Stub {
	t.Helper()
	s, err := stub.New(p, stub.WithPluginName(name), stub.WithPluginIdx(idx), stub.WithSocketPath(sock))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func podRecord(id, name string) *pod.Sandbox {
	cfg, _ := proto.Marshal(&runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "ns", Uid: "uid-" + name}})
	return &pod.Sandbox{ID: id, Config: cfg, State: pod.Ready}
}

func containerRecord(id, podID, name string, st container.State) *container.Container {
	cfg, _ := proto.Marshal(&runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: name}})
	return &container.Container{ID: id, SandboxID: podID, Config: cfg, State: st}
}

func assertEvents(t *testing.T, p *testPlugin, want ...string) {
	t.Helper()
	if got := p.Events(); !slices.Equal(got, want) {
		t.Fatalf("plugin got events\n  %q\nwant\n  %q", got, want)
	}
}

// refusal is a plugin's error as NRI relays it.
var refusal = errors.New("induced refusal")

// waitSynced waits until NRI has synchronised p and counts it among its
// plugins: the plugin hears of its synchronisation before NRI adds it,
// and NRI adds it before it lets anything block synchronisation again.
func waitSynced(t *testing.T, n *NRI, p *testPlugin) {
	t.Helper()
	<-p.synced
	unblock, err := n.BlockSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unblock()
}
