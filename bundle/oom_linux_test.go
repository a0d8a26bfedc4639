package bundle

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestClampOOMScoreAdjRaisesOnlyLowerScores(t *testing.T) {
	for _, tc := range []struct{ in, min, want int }{
		{-998, 0, 0}, {-998, -500, -500}, {500, 0, 500}, {0, 0, 0}, {-1000, 100, 100},
	} {
		in := tc.in
		p := &specs.Process{OOMScoreAdj: &in}
		clampOOMScoreAdj(p, tc.min)
		if *p.OOMScoreAdj != tc.want {
			t.Errorf("clamp(%d, min %d) = %d, want %d", tc.in, tc.min, *p.OOMScoreAdj, tc.want)
		}
	}
}

func TestClampOOMScoreAdjOnThisHostMatchesCapability(t *testing.T) {
	privileged, err := hasCapSysResource()
	if err != nil {
		t.Fatal(err)
	}
	own, err := ownOOMScoreAdj()
	if err != nil {
		t.Fatal(err)
	}
	adj := own - 1
	s := &specs.Spec{Process: &specs.Process{OOMScoreAdj: &adj}}
	if err := ClampOOMScoreAdj(s); err != nil {
		t.Fatal(err)
	}
	want := own
	if privileged {
		want = own - 1
	}
	if *s.Process.OOMScoreAdj != want {
		t.Fatalf("CAP_SYS_RESOURCE %v: oomScoreAdj %d, want %d", privileged, *s.Process.OOMScoreAdj, want)
	}
	for _, s := range []*specs.Spec{nil, {}, {Process: &specs.Process{}}} {
		if err := ClampOOMScoreAdj(s); err != nil {
			t.Errorf("ClampOOMScoreAdj(%+v) = %v", s, err)
		}
	}
}
