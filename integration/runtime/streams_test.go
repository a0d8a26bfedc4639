package runtime

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// recvAll reads a server stream to its end and flattens its messages.
func recvAll[R any, T any](t *testing.T, stream grpc.ServerStreamingClient[R], err error, items func(*R) []T) []T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, items(m)...)
	}
}

// labelPod adds labels to the pod config runp will read.
func (f *fixture) labelPod(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	p := f.podConfig(t, name)
	var cfg map[string]any
	b, _ := os.ReadFile(p)
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["labels"] = labels
	b, _ = json.Marshal(cfg)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func podIDs(ps []*runtimeapi.PodSandbox) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.GetId())
	}
	return ids
}

func TestTheStreamCallsAnswerWhatTheListCallsDoWithTheSameFilters(t *testing.T) {
	f := startWithBusybox(t)
	ctx := daemontest.Ctx(t)
	rt := f.Runtime
	// Two running pods with a running container each (runc and crun), and
	// a third pod, stopped.
	var pods, ctrs []string
	for i, h := range f.handlers[:2] {
		name := []string{"stream-a", "stream-b"}[i]
		pod, ctr := f.run(t, name, h, "sleep 1000")
		pods, ctrs = append(pods, pod), append(ctrs, ctr)
	}
	f.labelPod(t, "stream-c", map[string]string{"tier": "stopped"})
	stopped := strings.TrimSpace(f.MustCrictl(t, "runp", filepath.Join(f.Dir, "stream-c-pod.json")))
	f.MustCrictl(t, "stopp", stopped)

	ready := &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}
	for _, filter := range []*runtimeapi.PodSandboxFilter{nil, {Id: pods[1]}, {State: ready}, {LabelSelector: map[string]string{"tier": "stopped"}}} {
		list, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		s, err := rt.StreamPodSandboxes(ctx, &runtimeapi.StreamPodSandboxesRequest{Filter: filter})
		got := recvAll(t, s, err, (*runtimeapi.StreamPodSandboxesResponse).GetPodSandboxes)
		if !slices.Equal(podIDs(got), podIDs(list.GetItems())) || len(got) == 0 {
			t.Errorf("filter %v: stream %v, list %v", filter, podIDs(got), podIDs(list.GetItems()))
		}
	}

	running := &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}
	for _, filter := range []*runtimeapi.ContainerFilter{nil, {Id: ctrs[0]}, {PodSandboxId: pods[1]}, {State: running}} {
		list, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		s, err := rt.StreamContainers(ctx, &runtimeapi.StreamContainersRequest{Filter: filter})
		got := recvAll(t, s, err, (*runtimeapi.StreamContainersResponse).GetContainers)
		var gotIDs, wantIDs []string
		for _, c := range got {
			gotIDs = append(gotIDs, c.GetId())
		}
		for _, c := range list.GetContainers() {
			wantIDs = append(wantIDs, c.GetId())
		}
		if !slices.Equal(gotIDs, wantIDs) || len(gotIDs) == 0 {
			t.Errorf("filter %v: stream %v, list %v", filter, gotIDs, wantIDs)
		}
	}

	for _, filter := range []*runtimeapi.ContainerStatsFilter{nil, {Id: ctrs[1]}, {PodSandboxId: pods[0]}} {
		list, err := rt.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		s, err := rt.StreamContainerStats(ctx, &runtimeapi.StreamContainerStatsRequest{Filter: filter})
		got := recvAll(t, s, err, (*runtimeapi.StreamContainerStatsResponse).GetContainerStats)
		var gotIDs, wantIDs []string
		for _, c := range got {
			gotIDs = append(gotIDs, c.GetAttributes().GetId())
		}
		for _, c := range list.GetStats() {
			wantIDs = append(wantIDs, c.GetAttributes().GetId())
		}
		if !slices.Equal(gotIDs, wantIDs) || len(gotIDs) == 0 {
			t.Errorf("stats filter %v: stream %v, list %v", filter, gotIDs, wantIDs)
		}
	}

	for _, filter := range []*runtimeapi.PodSandboxStatsFilter{nil, {Id: pods[0]}} {
		list, err := rt.ListPodSandboxStats(ctx, &runtimeapi.ListPodSandboxStatsRequest{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		s, err := rt.StreamPodSandboxStats(ctx, &runtimeapi.StreamPodSandboxStatsRequest{Filter: filter})
		got := recvAll(t, s, err, (*runtimeapi.StreamPodSandboxStatsResponse).GetPodSandboxStats)
		var gotIDs, wantIDs []string
		for _, p := range got {
			gotIDs = append(gotIDs, p.GetAttributes().GetId())
		}
		for _, p := range list.GetStats() {
			wantIDs = append(wantIDs, p.GetAttributes().GetId())
		}
		slices.Sort(gotIDs)
		slices.Sort(wantIDs)
		if !slices.Equal(gotIDs, wantIDs) || len(gotIDs) == 0 {
			t.Errorf("pod stats filter %v: stream %v, list %v", filter, gotIDs, wantIDs)
		}
	}

	list, err := rt.ListPodSandboxMetrics(ctx, &runtimeapi.ListPodSandboxMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.StreamPodSandboxMetrics(ctx, &runtimeapi.StreamPodSandboxMetricsRequest{})
	got := recvAll(t, s, err, (*runtimeapi.StreamPodSandboxMetricsResponse).GetPodSandboxMetrics)
	var gotIDs, wantIDs []string
	for _, m := range got {
		gotIDs = append(gotIDs, m.GetPodSandboxId())
	}
	for _, m := range list.GetPodMetrics() {
		wantIDs = append(wantIDs, m.GetPodSandboxId())
	}
	slices.Sort(gotIDs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) || len(gotIDs) != 2 {
		t.Errorf("pod metrics: stream %v, list %v (want the 2 ready pods)", gotIDs, wantIDs)
	}

	f.MustCrictl(t, "rmp", "-f", pods[0], pods[1], stopped)
	f.assertNothingLeft(t)
}
