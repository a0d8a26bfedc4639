package nri

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/cdi"
	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/container"
)

func TestAPodAndContainerLifecycleReachesAPluginInOrderAndEachEventOnce(t *testing.T) {
	n, sock := startNRI(t, &fakeRuntime{})
	p := newTestPlugin()
	connect(t, sock, p, "order", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	if err := n.RunPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	c := containerRecord("c1", "p1", "app", container.Creating)
	if err := n.CreateContainer(ctx, sb, c, &specs.Spec{}); err != nil {
		t.Fatal(err)
	}
	n.PostCreateContainer(ctx, sb, c)
	if err := n.StartContainer(ctx, sb, c); err != nil {
		t.Fatal(err)
	}
	n.PostStartContainer(ctx, sb, c)
	// StopContainer's call and the exit both tell it; plugins hear it once.
	n.StopContainer(ctx, sb, c)
	n.StopContainer(ctx, sb, c)
	n.RemoveContainer(ctx, sb, c)
	n.RemoveContainer(ctx, sb, c)
	n.StopPodSandbox(ctx, sb)
	n.StopPodSandbox(ctx, sb)
	n.RemovePodSandbox(ctx, sb)
	assertEvents(t, p, "RunPodSandbox p1(web)", "CreateContainer c1(app)", "PostCreateContainer c1",
		"StartContainer c1", "PostStartContainer c1", "StopContainer c1", "RemoveContainer c1",
		"StopPodSandbox p1", "RemovePodSandbox p1")
}

func TestAPluginsAdjustmentIsAppliedToTheContainersSpec(t *testing.T) {
	n, sock := startNRI(t, &fakeRuntime{})
	p := newTestPlugin()
	p.adjust = &api.ContainerAdjustment{}
	p.adjust.AddEnv("FROM_PLUGIN", "yes")
	p.adjust.AddAnnotation("example.com/nri", "adjusted")
	p.adjust.AddMount(&api.Mount{Destination: "/plugin", Source: "/tmp", Type: "bind", Options: []string{"rbind", "ro"}})
	connect(t, sock, p, "adjust", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	spec := &specs.Spec{Process: &specs.Process{Env: []string{"PATH=/bin"}}}
	if err := n.CreateContainer(ctx, sb, containerRecord("c1", "p1", "app", container.Creating), spec); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(spec.Process.Env, "FROM_PLUGIN=yes") || !slices.Contains(spec.Process.Env, "PATH=/bin") {
		t.Errorf("env after the adjustment: %v", spec.Process.Env)
	}
	if spec.Annotations["example.com/nri"] != "adjusted" {
		t.Errorf("annotations after the adjustment: %v", spec.Annotations)
	}
	if !slices.ContainsFunc(spec.Mounts, func(m specs.Mount) bool { return m.Destination == "/plugin" && m.Source == "/tmp" }) {
		t.Errorf("mounts after the adjustment: %v", spec.Mounts)
	}
}

func TestARefusedCreateIsFailedPreconditionAndItsUndoTellsPluginsTheContainerWent(t *testing.T) {
	n, sock := startNRI(t, &fakeRuntime{})
	p := newTestPlugin()
	p.failCreate = refusal
	connect(t, sock, p, "refuse", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	c := containerRecord("c1", "p1", "app", container.Creating)
	err := n.CreateContainer(ctx, sb, c, &specs.Spec{})
	if !errdefs.IsFailedPrecondition(err) || !strings.Contains(err.Error(), refusal.Error()) {
		t.Fatalf("refused CreateContainer: %v", err)
	}
	n.RemoveContainer(ctx, sb, c) // what the container service's undo calls
	assertEvents(t, p, "CreateContainer c1(app)", "StopContainer c1", "RemoveContainer c1")
}

func TestARefusedRunPodSandboxTellsPluginsThePodStoppedAndWent(t *testing.T) {
	n, sock := startNRI(t, &fakeRuntime{})
	p := newTestPlugin()
	p.failRun = refusal
	connect(t, sock, p, "refuse", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	if err := n.RunPodSandbox(ctx, sb); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("refused RunPodSandbox: %v", err)
	}
	n.RemovePodSandbox(ctx, sb) // the pod service's undo: nothing more to tell
	assertEvents(t, p, "RunPodSandbox p1(web)", "StopPodSandbox p1", "RemovePodSandbox p1")
}

func TestAPluginThatConnectsIsSynchronisedWithThePodsAndLiveContainers(t *testing.T) {
	rt := &fakeRuntime{}
	rt.pods = append(rt.pods, *podRecord("p1", "web"))
	rt.ctrs = append(rt.ctrs, *containerRecord("c1", "p1", "app", container.Running),
		*containerRecord("c2", "p1", "done", container.Exited))
	n, sock := startNRI(t, rt)
	p := newTestPlugin()
	connect(t, sock, p, "late", "10")
	waitSynced(t, n, p)
	p.mu.Lock()
	pods, ctrs := slices.Clone(p.syncedPods), slices.Clone(p.ctrs)
	p.mu.Unlock()
	if !slices.Equal(pods, []string{"p1"}) || !slices.Equal(ctrs, []string{"c1"}) {
		t.Fatalf("synchronised pods %v, containers %v; want [p1] and [c1] (c2 exited)", pods, ctrs)
	}
	// The exited one is still known: its removal reaches plugins, its
	// stop (already past) does not.
	n.RemoveContainer(ctx, podRecord("p1", "web"), containerRecord("c2", "p1", "done", container.Exited))
	assertEvents(t, p, "RemoveContainer c2")
}

func TestAContainerMadeWhileAPluginConnectsReachesIt(t *testing.T) {
	rt := &fakeRuntime{}
	n, sock := startNRI(t, rt)
	sb := podRecord("p1", "web")
	// What CreateContainer does: block synchronisation, tell plugins,
	// record the container as made, unblock.
	unblock, err := n.BlockSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPlugin()
	s, err := stub.New(p, stub.WithPluginName("joining"), stub.WithPluginIdx("10"), stub.WithSocketPath(sock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	connected := make(chan error, 1)
	go func() { connected <- s.Start(ctx) }()
	<-p.configured
	c := containerRecord("c1", "p1", "app", container.Creating)
	if err := n.CreateContainer(ctx, sb, c, &specs.Spec{}); err != nil {
		t.Fatal(err)
	}
	c.State = container.Created
	rt.addContainer(*c)
	unblock()
	<-p.synced
	if err := <-connected; err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	synced := slices.Contains(p.ctrs, "c1")
	p.mu.Unlock()
	told := slices.Contains(p.Events(), "CreateContainer c1(app)")
	if synced == told {
		t.Fatalf("container made while the plugin connected: in its synchronisation %v, told as an event %v; want exactly one", synced, told)
	}
}

func TestPluginsChangeAnUpdatesResourcesAndTheirOwnUpdatesReachTheRuntime(t *testing.T) {
	rt := &fakeRuntime{}
	n, sock := startNRI(t, rt)
	p := newTestPlugin()
	p.memoryLimit = 64 << 20
	s := connect(t, sock, p, "update", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	c := containerRecord("c1", "p1", "app", container.Running)
	limit := int64(32 << 20)
	res, err := n.UpdateContainer(ctx, sb, c, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Memory == nil || res.Memory.Limit == nil || *res.Memory.Limit != 64<<20 {
		t.Fatalf("resources after the plugin's answer: %+v", res.Memory)
	}
	u := &api.ContainerUpdate{}
	u.SetContainerId("c9")
	u.SetLinuxCPUShares(512)
	if failed, err := s.UpdateContainers([]*api.ContainerUpdate{u}); err != nil || len(failed) != 0 {
		t.Fatalf("plugin's own update: failed %v, %v", failed, err)
	}
	rt.mu.Lock()
	got := rt.updates["c9"]
	rt.mu.Unlock()
	if got == nil || got.CPU == nil || got.CPU.Shares == nil || *got.CPU.Shares != 512 {
		t.Fatalf("runtime got update %+v", got)
	}
}

func TestAnEvictionStopsItsContainerThroughTheRuntime(t *testing.T) {
	rt := &fakeRuntime{}
	n, _ := startNRI(t, rt)
	n.stopEvicted(ctx, []*api.ContainerEviction{{ContainerId: "c7", Reason: "test"}})
	if !slices.Equal(rt.evicted, []string{"c7"}) {
		t.Fatalf("evicted %v", rt.evicted)
	}
}

func TestDisabledOrNilNRIDoesNothingAndListensNowhere(t *testing.T) {
	dir := t.TempDir()
	n, err := New(config.NRI{Disable: true, SocketPath: dir + "/nri.sock"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*NRI{n, nil} {
		n.Attach(&fakeRuntime{})
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		unblock, err := n.BlockSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unblock()
		sb := podRecord("p1", "web")
		if err := n.RunPodSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		spec := &specs.Spec{}
		if err := n.CreateContainer(ctx, sb, containerRecord("c1", "p1", "app", container.Creating), spec); err != nil {
			t.Fatal(err)
		}
		n.Stop()
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("disabled NRI made %v", entries)
	}
}

func TestTheShimsDoNotLinkNRI(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the shims' dependencies")
	}
	out, err := exec.Command(gobin, "list", "-tags=nri_no_wasm", "-deps", "github.com/runlet/runlet/shims/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/containerd/nri") {
			t.Fatalf("a shim links %s", dep)
		}
	}
}

func TestWaitingForAPluginsSynchronisationEndsWithTheCallersContext(t *testing.T) {
	n, sock := startNRI(t, &fakeRuntime{})
	p := newTestPlugin()
	p.syncing, p.holdSync = make(chan struct{}), make(chan struct{})
	connect(t, sock, p, "slow", "10")
	<-p.syncing
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := n.BlockSync(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockSync during a synchronisation with a cancelled context: %v", err)
	}
	close(p.holdSync)
	<-p.synced
	unblock, err := n.BlockSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unblock()
}

func TestAPodResourceUpdateReachesPluginsWhileThePodLives(t *testing.T) {
	n, sock := startNRI(t, &fakeRuntime{})
	p := newTestPlugin()
	connect(t, sock, p, "podupdate", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	if err := n.RunPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := n.UpdatePodSandbox(ctx, sb, nil, &runtimeapi.LinuxContainerResources{CpuShares: 256}); err != nil {
		t.Fatal(err)
	}
	n.PostUpdatePodSandbox(ctx, sb)
	n.StopPodSandbox(ctx, sb)
	if err := n.UpdatePodSandbox(ctx, sb, nil, &runtimeapi.LinuxContainerResources{CpuShares: 512}); err != nil {
		t.Fatal(err)
	}
	assertEvents(t, p, "RunPodSandbox p1(web)", "UpdatePodSandbox p1(cpu shares 256)", "PostUpdatePodSandbox p1", "StopPodSandbox p1")
}

func TestAnAdjustmentAskingForACDIDeviceIsRefusedNotDroppedWhenCDIIsOff(t *testing.T) {
	a := &api.ContainerAdjustment{}
	a.AddCDIDevice(&api.CDIDevice{Name: "vendor.com/gpu=0"})
	if err := adjust(&specs.Spec{}, a, nil); !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "vendor.com/gpu=0") {
		t.Fatalf("adjust with a CDI device: %v", err)
	}
}

func TestAPluginsCDIDevicesAreInjectedAndAnUnknownOneIsInvalidArgument(t *testing.T) {
	dir := t.TempDir()
	spec := "cdiVersion: \"0.6.0\"\nkind: vendor.com/gpu\ndevices:\n- name: \"0\"\n  containerEdits:\n    env: [GPU_FROM_CDI=0]\n"
	if err := os.WriteFile(filepath.Join(dir, "gpu.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := cdi.New([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	n, sock := startNRI(t, &fakeRuntime{})
	n.InjectDevicesWith(in)
	p := newTestPlugin()
	p.adjust = &api.ContainerAdjustment{}
	p.adjust.AddCDIDevice(&api.CDIDevice{Name: "vendor.com/gpu=0"})
	connect(t, sock, p, "cdi", "10")
	waitSynced(t, n, p)
	sb := podRecord("p1", "web")
	s := &specs.Spec{Process: &specs.Process{Env: []string{"PATH=/bin"}}}
	if err := n.CreateContainer(ctx, sb, containerRecord("c1", "p1", "app", container.Creating), s); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Process.Env, "GPU_FROM_CDI=0") {
		t.Errorf("env after a plugin's CDI device: %v", s.Process.Env)
	}
	p.adjust = &api.ContainerAdjustment{}
	p.adjust.AddCDIDevice(&api.CDIDevice{Name: "vendor.com/gpu=9"})
	err = n.CreateContainer(ctx, sb, containerRecord("c2", "p1", "app2", container.Creating), &specs.Spec{Process: &specs.Process{}})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "vendor.com/gpu=9") {
		t.Fatalf("a plugin's unknown CDI device: %v, want InvalidArgument naming it", err)
	}
}
