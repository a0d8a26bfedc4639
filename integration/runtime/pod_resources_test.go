package runtime

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestPodResourcesAfterAResizeAreRecordedAcrossARestart(t *testing.T) {
	f := start(t)
	pod := f.runp(t, "resize", "")
	ctx := daemontest.Ctx(t)
	req := &runtimeapi.UpdatePodSandboxResourcesRequest{PodSandboxId: pod,
		Overhead:  &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 7 << 20},
		Resources: &runtimeapi.LinuxContainerResources{CpuQuota: 50000, CpuPeriod: 100000, MemoryLimitInBytes: 268435456}}
	if _, err := f.Runtime.UpdatePodSandboxResources(ctx, req); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		_, info := f.inspectp(t, pod)
		res, _ := info["resources"].(map[string]any)
		over, _ := info["overhead"].(map[string]any)
		if res["memory_limit_in_bytes"] != float64(268435456) || res["cpu_quota"] != float64(50000) || over["memory_limit_in_bytes"] != float64(7<<20) {
			t.Fatalf("%s: verbose status resources %v, overhead %v", when, info["resources"], info["overhead"])
		}
	}
	check("after the update")
	f.Stop(t)
	f.Restart(t)
	check("after a restart")
	if state, _ := f.inspectp(t, pod); state != "SANDBOX_READY" {
		t.Fatalf("the pod after the update and a restart: %s", state)
	}
	_, err := f.Runtime.UpdatePodSandboxResources(ctx, &runtimeapi.UpdatePodSandboxResourcesRequest{PodSandboxId: "0123456789ab", Resources: req.Resources})
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "0123456789ab") {
		t.Fatalf("an unknown pod: %v, want NotFound naming it", err)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}
