package specgen

import (
	"maps"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestResourcesMapToTheSpec(t *testing.T) {
	r := &runtimeapi.LinuxContainerResources{
		CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, MemoryLimitInBytes: 1 << 30,
		CpusetCpus: "0-1", CpusetMems: "0", OomScoreAdj: 999,
		HugepageLimits: []*runtimeapi.HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}},
	}
	for _, swap := range []bool{false, true} {
		res := &specs.LinuxResources{}
		if err := containerResources(r, res, hostCgroups{swap: swap}); err != nil {
			t.Fatal(err)
		}
		c, m := res.CPU, res.Memory
		if *c.Period != 100000 || *c.Quota != 50000 || *c.Shares != 512 || c.Cpus != "0-1" || c.Mems != "0" || *m.Limit != 1<<30 {
			t.Fatalf("cpu %+v memory %+v", c, m)
		}
		if swap && (m.Swap == nil || *m.Swap != 1<<30) || !swap && m.Swap != nil {
			t.Fatalf("swap accounting %v: swap %v, want the memory limit only with accounting", swap, m.Swap)
		}
		if len(res.HugepageLimits) != 1 || res.HugepageLimits[0].Pagesize != "2MB" || res.HugepageLimits[0].Limit != 4<<20 {
			t.Fatalf("hugepages %+v", res.HugepageLimits)
		}
	}
	res := &specs.LinuxResources{}
	containerResources(&runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 100, MemorySwapLimitInBytes: 300}, res, hostCgroups{swap: true})
	if *res.Memory.Swap != 300 {
		t.Fatalf("swap %d, want 300", *res.Memory.Swap)
	}
	containerResources(&runtimeapi.LinuxContainerResources{}, res, hostCgroups{})
	if res.CPU.Period != nil || res.CPU.Shares != nil || res.Memory.Limit != nil {
		t.Fatalf("zero resources set %+v %+v", res.CPU, res.Memory)
	}
}

func TestUnifiedResourcesNeedCgroupV2(t *testing.T) {
	r := &runtimeapi.LinuxContainerResources{Unified: map[string]string{"memory.high": "1000000"}}
	res := &specs.LinuxResources{}
	if err := containerResources(r, res, hostCgroups{unified: true}); err != nil || !maps.Equal(res.Unified, r.Unified) {
		t.Fatalf("unified %v, %v", res.Unified, err)
	}
	wantInvalid(t, containerResources(r, &specs.LinuxResources{}, hostCgroups{}), "linux.resources.unified")
}

func TestResourceErrors(t *testing.T) {
	for _, r := range []*runtimeapi.LinuxContainerResources{
		{CpuShares: -1},
		{MemoryLimitInBytes: -5},
		{HugepageLimits: []*runtimeapi.HugepageLimit{{PageSize: "huge"}}},
	} {
		wantInvalid(t, containerResources(r, &specs.LinuxResources{}, hostCgroups{}), "linux.resources.")
	}
	cfg := testContainer(nil)
	cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{OomScoreAdj: 1001}
	_, err := ContainerSpec(cfg, testPod(), testOptions())
	wantInvalid(t, err, "oom_score_adj")
}

func TestContainerOOMScoreAdjAndCgroupsPath(t *testing.T) {
	cfg := testContainer(nil)
	cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{OomScoreAdj: -997}
	s := mustContainerSpec(t, cfg, testPod(), testOptions())
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != -997 {
		t.Fatalf("oom_score_adj %v, want what CRI asks (the shim clamps)", s.Process.OOMScoreAdj)
	}
	if s.Linux.CgroupsPath != "/kubepods/besteffort/podpod-uid/runlet-ctr1" {
		t.Fatalf("cgroupsPath %q", s.Linux.CgroupsPath)
	}
	o := testOptions()
	o.CgroupsPath = "/custom"
	if s := mustContainerSpec(t, testContainer(nil), testPod(), o); s.Linux.CgroupsPath != "/custom" || s.Process.OOMScoreAdj != nil {
		t.Fatalf("cgroupsPath %q oom %v", s.Linux.CgroupsPath, s.Process.OOMScoreAdj)
	}
}

func TestCgroupsPathForCgroupfsAndSystemd(t *testing.T) {
	for parent, want := range map[string]string{
		"":                          "/runlet/id1",
		"/kubepods/pod1":            "/kubepods/pod1/runlet-id1",
		"kubepods-pod1.slice":       "kubepods-pod1.slice:runlet:id1",
		"/kubepods.slice/kp.slice":  "kp.slice:runlet:id1",
		"/kubepods/burstable/pod2/": "/kubepods/burstable/pod2/runlet-id1",
	} {
		if got := CgroupsPath(parent, "id1"); got != want {
			t.Errorf("CgroupsPath(%q) = %q, want %q", parent, got, want)
		}
	}
}

func TestCgroupParentMustStayUnderTheHierarchy(t *testing.T) {
	for _, parent := range []string{"kubepods/pod1", "/kubepods/../../etc", "/.."} {
		sb := testPod()
		sb.Linux.CgroupParent = parent
		_, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}})
		wantInvalid(t, err, "cgroup_parent")
		_, err = ContainerSpec(testContainer(nil), sb, testOptions())
		wantInvalid(t, err, "cgroup_parent")
	}
	sb := testPod()
	sb.Linux.CgroupParent = "/kubepods.slice/kubepods-pod1.slice"
	if _, err := SandboxSpec(sb, SandboxOptions{ID: "sb1", Args: []string{"/pause"}}); err != nil {
		t.Fatal(err)
	}
}
