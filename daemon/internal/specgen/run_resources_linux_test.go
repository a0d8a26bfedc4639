package specgen

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The runtimes apply the mapped resources: the memory limit, CFS quota
// and shares in the container's cgroups (cgroup v1 here, each hierarchy
// showing the container's own cgroup) and oom_score_adj.
func TestContainerResourcesApplyUnderRuncAndCrun(t *testing.T) {
	if currentHostCgroups().unified {
		t.Skip("reads cgroup v1 files")
	}
	script := `cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares /proc/self/oom_score_adj`
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			sb := testPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			cfg := shellContainer(script, nil)
			cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{
				MemoryLimitInBytes: 64 << 20, CpuPeriod: 100000, CpuQuota: 25000, CpuShares: 256, OomScoreAdj: 500,
			}
			if out := r.runInPod(cfg, sb, pod, nil); out != "67108864\n25000\n256\n500\n" {
				t.Fatalf("container printed %q", out)
			}
		})
	}
}
