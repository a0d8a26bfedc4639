package runtime

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// adjustingPlugin is an NRI plugin that gives every container an
// environment variable and refuses containers named "refused".
type adjustingPlugin struct{ synced chan struct{} }

// Synchronize tells the test runletd holds the plugin: a container
// created from now on waits for the synchronisation, then reaches it.
func (p adjustingPlugin) Synchronize(context.Context, []*api.PodSandbox, []*api.Container) ([]*api.ContainerUpdate, error) {
	close(p.synced)
	return nil, nil
}

func (adjustingPlugin) CreateContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	if strings.HasPrefix(c.GetName(), "refused") {
		return nil, nil, errFromPlugin
	}
	a := &api.ContainerAdjustment{}
	a.AddEnv("NRI_ADJUSTED", "by-plugin")
	return a, nil, nil
}

type pluginError string

func (e pluginError) Error() string { return string(e) }

const errFromPlugin = pluginError("the test plugin refuses this container")

func TestAnNRIPluginAdjustsAndRefusesRealContainersOnEveryHandler(t *testing.T) {
	f := startWithBusybox(t)
	p := adjustingPlugin{synced: make(chan struct{})}
	s, err := stub.New(p, stub.WithPluginName("adjust"), stub.WithPluginIdx("10"),
		stub.WithSocketPath(daemontest.NRISocket(f.Dir)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	<-p.synced
	for i, h := range f.handlers {
		name := []string{"runc", "crun", "ctrd"}[i]
		pod, ctr := f.run(t, name, h, "echo env-$NRI_ADJUSTED; while :; do sleep 0.1; done")
		f.waitLogs(t, ctr, "env-by-plugin")
		out, err := f.Crictl(t, "create", pod, f.containerConfig(t, "refused-"+name, "true"), filepath.Join(f.Dir, name+"-pod.json"))
		if err == nil || !strings.Contains(out, string(errFromPlugin)) || !strings.Contains(out, "FailedPrecondition") {
			t.Fatalf("%s: create of a container the plugin refuses: %v\n%s", h, err, out)
		}
		if ps := f.MustCrictl(t, "ps", "-a", "--pod", pod, "-q"); strings.TrimSpace(ps) != ctr {
			t.Fatalf("%s: containers of the pod after the refusal: %q, want only %s", h, ps, ctr)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

// syncPlugin records the pods and containers of its synchronisation.
type syncPlugin struct {
	synced     chan struct{}
	pods, ctrs *[]string
}

func (p syncPlugin) Synchronize(_ context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	for _, sb := range pods {
		*p.pods = append(*p.pods, sb.GetId())
	}
	for _, c := range ctrs {
		*p.ctrs = append(*p.ctrs, c.GetId())
	}
	close(p.synced)
	return nil, nil
}

// RemovePodSandbox is there because NRI takes no plugin without an event.
func (syncPlugin) RemovePodSandbox(context.Context, *api.PodSandbox) error { return nil }

func TestAnNRIPluginConnectingAfterARestartIsSynchronisedWithWhatOutlivedIt(t *testing.T) {
	f := startWithBusybox(t)
	pod, ctr := f.run(t, "outlives", "", "while :; do sleep 0.1; done")
	f.Stop(t)
	f.Restart(t)
	// Registered after the restart, so it runs while the new runletd
	// still serves (the fixture's own cleanup runs after it stopped).
	t.Cleanup(func() { f.Crictl(t, "rmp", "-f", pod) })
	var pods, ctrs []string
	p := syncPlugin{synced: make(chan struct{}), pods: &pods, ctrs: &ctrs}
	s, err := stub.New(p, stub.WithPluginName("late"), stub.WithPluginIdx("10"), stub.WithSocketPath(daemontest.NRISocket(f.Dir)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	<-p.synced
	if !slices.Contains(pods, pod) || !slices.Contains(ctrs, ctr) {
		t.Fatalf("synchronised pods %v and containers %v after the restart, want %s and %s", pods, ctrs, pod, ctr)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}
