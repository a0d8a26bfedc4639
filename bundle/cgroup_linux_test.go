package bundle

import (
	"context"
	"testing"

	"github.com/moby/sys/mountinfo"
)

// Deliberately not undone: see EnsureHugetlbV1.
func TestEnsureHugetlbV1MovesHugetlbOffCgroup2Once(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	for i := range 2 {
		if err := EnsureHugetlbV1(ctx); err != nil {
			t.Fatalf("EnsureHugetlbV1 #%d: %v", i+1, err)
		}
	}
	still, err := unifiedHoldsController("hugetlb")
	if err != nil || still {
		t.Fatalf("hugetlb still on cgroup2: %v %v", still, err)
	}
	infos, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(cgroupRoot + "/hugetlb"))
	if err != nil {
		t.Fatal(err)
	}
	if hybrid := len(infos) > 0; hybrid && (len(infos) != 1 || infos[0].FSType != "cgroup") {
		t.Fatalf("hugetlb mounts %+v, want one cgroup mount", infos)
	}
}
