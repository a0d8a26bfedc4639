package wirecompat

import (
	"testing"

	cgroup1stats "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2stats "github.com/containerd/cgroups/v3/cgroup2/stats"
	cdtaskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	rtaskv2 "github.com/runlet/runlet/proto/task/v2"
)

// TestStatsCarriesCgroupsMetricsContainerdCanDecode packs the cgroups
// library's Metrics (what our shims answer Stats with) into our
// StatsResponse and checks containerd decodes it as the same Metrics, by name.
func TestStatsCarriesCgroupsMetricsContainerdCanDecode(t *testing.T) {
	for _, tc := range []struct {
		metrics  proto.Message
		fullName string
	}{
		{&cgroup1stats.Metrics{}, "io.containerd.cgroups.v1.Metrics"},
		{&cgroup2stats.Metrics{}, "io.containerd.cgroups.v2.Metrics"},
	} {
		t.Run(tc.fullName, func(t *testing.T) {
			if got := string(tc.metrics.ProtoReflect().Descriptor().FullName()); got != tc.fullName {
				t.Fatalf("cgroups metrics are named %s, want %s", got, tc.fullName)
			}
			metrics := filled(newOf(tc.metrics))
			packed, err := anypb.New(metrics)
			if err != nil {
				t.Fatal(err)
			}
			wire := marshal(t, &rtaskv2.StatsResponse{Stats: packed})

			var theirs cdtaskv2.StatsResponse
			if err := proto.Unmarshal(wire, &theirs); err != nil {
				t.Fatal(err)
			}
			decoded, err := typeurl.UnmarshalAny(theirs.GetStats())
			if err != nil {
				t.Fatalf("containerd's typeurl cannot decode %s: %v", theirs.GetStats().GetTypeUrl(), err)
			}
			if !proto.Equal(decoded.(proto.Message), metrics) {
				t.Errorf("containerd decoded %T with different content", decoded)
			}
		})
	}
}
