package runtime

import (
	"context"
	"path/filepath"
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
