package metrics

import (
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// cadvisorNames are the metrics kubelet serves from cAdvisor on a legacy
// stats provider (critest v1.37's expected descriptors).
var cadvisorNames = strings.Fields(`container_blkio_device_usage_total container_cpu_cfs_periods_total
container_cpu_cfs_throttled_periods_total container_cpu_cfs_throttled_seconds_total container_cpu_system_seconds_total
container_cpu_usage_seconds_total container_cpu_user_seconds_total container_file_descriptors container_fs_inodes_free
container_fs_inodes_total container_fs_limit_bytes container_fs_reads_bytes_total container_fs_reads_total
container_fs_usage_bytes container_fs_writes_bytes_total container_fs_writes_total container_hugetlb_max_usage_bytes
container_hugetlb_usage_bytes container_last_seen container_memory_cache container_memory_failcnt
container_memory_failures_total container_memory_kernel_usage container_memory_mapped_file
container_memory_max_usage_bytes container_memory_rss container_memory_swap container_memory_usage_bytes
container_memory_working_set_bytes container_network_receive_bytes_total container_network_receive_errors_total
container_network_receive_packets_dropped_total container_network_receive_packets_total
container_network_transmit_bytes_total container_network_transmit_errors_total
container_network_transmit_packets_dropped_total container_network_transmit_packets_total container_oom_events_total
container_pressure_cpu_stalled_seconds_total container_pressure_cpu_waiting_seconds_total
container_pressure_io_stalled_seconds_total container_pressure_io_waiting_seconds_total
container_pressure_memory_stalled_seconds_total container_pressure_memory_waiting_seconds_total container_processes
container_sockets container_spec_cpu_period container_spec_cpu_quota container_spec_cpu_shares
container_spec_memory_limit_bytes container_spec_memory_reservation_limit_bytes container_spec_memory_swap_limit_bytes
container_start_time_seconds container_threads container_threads_max container_ulimits_soft`)

func TestDescriptorsAreExactlyCadvisorsMetricsWithHelpAndBaseLabels(t *testing.T) {
	var names []string
	for _, d := range Descriptors() {
		names = append(names, d.GetName())
		if d.GetHelp() == "" {
			t.Errorf("%s has no help", d.GetName())
		}
		if !slices.Equal(d.GetLabelKeys()[:len(BaseLabelKeys)], BaseLabelKeys) {
			t.Errorf("%s label keys %v do not start with %v", d.GetName(), d.GetLabelKeys(), BaseLabelKeys)
		}
	}
	slices.Sort(names)
	want := slices.Clone(cadvisorNames)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("descriptors\n%v\nwant\n%v", names, want)
	}
}

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func v1Metrics() *v1.Metrics {
	return &v1.Metrics{
		CPU: &v1.CPUStat{Usage: &v1.CPUUsage{Total: 3_500_000_000, User: 2_100_000_000, Kernel: 1_400_000_000},
			Throttling: &v1.Throttle{Periods: 40, ThrottledPeriods: 7, ThrottledTime: 2_000_000_000}},
		Memory: &v1.MemoryStat{TotalCache: 4096, TotalRSS: 8192, TotalMappedFile: 1024, TotalInactiveFile: 1000,
			PgFault: 11, PgMajFault: 2, TotalPgFault: 13, TotalPgMajFault: 3,
			Usage:  &v1.MemoryEntry{Usage: 20000, Max: 30000, Limit: 64 << 20, Failcnt: 5},
			Swap:   &v1.MemoryEntry{Usage: 20500, Limit: 9223372036854771712},
			Kernel: &v1.MemoryEntry{Usage: 512}},
		MemoryOomControl: &v1.MemoryOomControl{OomKill: 1},
		Pids:             &v1.PidsStat{Current: 3, Limit: 100},
		Hugetlb:          []*v1.HugetlbStat{{Pagesize: "2MB", Usage: 0, Max: 4096}},
		Blkio: &v1.BlkIOStat{
			IoServiceBytesRecursive: []*v1.BlkIOEntry{{Op: "Read", Major: 8, Minor: 0, Device: "/dev/sda", Value: 100},
				{Op: "Write", Major: 8, Minor: 0, Device: "/dev/sda", Value: 200}, {Op: "Total", Major: 8, Minor: 0, Value: 300}},
			IoServicedRecursive: []*v1.BlkIOEntry{{Op: "Read", Major: 8, Minor: 0, Value: 1}, {Op: "Write", Major: 8, Minor: 0, Value: 2}},
		},
	}
}

// sample finds the value of name whose label values end with tail.
func sample(ms []*runtimeapi.Metric, name string, tail ...string) (uint64, bool) {
	for _, m := range ms {
		if m.GetName() == name && slices.Equal(m.GetLabelValues()[len(m.GetLabelValues())-len(tail):], tail) {
			return m.GetValue().GetValue(), true
		}
	}
	return 0, false
}

func wantValues(t *testing.T, ms []*runtimeapi.Metric, want map[string]uint64) {
	t.Helper()
	for name, v := range want {
		got, ok := sample(ms, name)
		if !ok || got != v {
			t.Errorf("%s = %d (present %v), want %d", name, got, ok, v)
		}
	}
}

// checkShape fails on a metric that is not described or whose label
// values do not match its descriptor's keys, and returns the names seen.
func checkShape(t *testing.T, ms []*runtimeapi.Metric, l Labels) map[string]bool {
	t.Helper()
	keys := map[string][]string{}
	for _, d := range Descriptors() {
		keys[d.GetName()] = d.GetLabelKeys()
	}
	seen := map[string]bool{}
	for _, m := range ms {
		k, ok := keys[m.GetName()]
		if !ok {
			t.Errorf("%s is not described", m.GetName())
			continue
		}
		if len(m.GetLabelValues()) != len(k) || !slices.Equal(m.GetLabelValues()[:6], l.values()) {
			t.Errorf("%s labels %v for keys %v", m.GetName(), m.GetLabelValues(), k)
		}
		if m.GetValue() == nil {
			t.Errorf("%s has no value", m.GetName())
		}
		seen[m.GetName()] = true
	}
	return seen
}

var testLabels = Labels{Container: "app", ID: "c1", Image: "busybox", Name: "app_pod_ns_uid_0", Namespace: "ns", Pod: "pod"}

func TestV1MetricsBecomeCadvisorsValuesInWholeSeconds(t *testing.T) {
	cg, err := DecodeCgroup(anyOf(t, v1Metrics()))
	if err != nil {
		t.Fatal(err)
	}
	c := &Container{Labels: testLabels, Cgroup: cg, Procs: &Procs{Processes: 2, Threads: 9, FDs: 6, Sockets: 1, NoFileSoft: 1024},
		FS:   &FS{Device: "/dev/sda1", Limit: 1 << 30, Usage: 8192, InodesTotal: 1000, InodesFree: 900},
		Spec: Spec{CPUPeriod: 100000, CPUQuota: 20000, CPUShares: 512}, StartedAt: time.Unix(1700000000, 5), Now: time.Unix(1700000100, 0)}
	ms := c.Metrics()
	seen := checkShape(t, ms, testLabels)
	wantValues(t, ms, map[string]uint64{
		"container_cpu_user_seconds_total": 2, "container_cpu_system_seconds_total": 1,
		"container_cpu_cfs_periods_total": 40, "container_cpu_cfs_throttled_periods_total": 7, "container_cpu_cfs_throttled_seconds_total": 2,
		"container_memory_usage_bytes": 20000, "container_memory_working_set_bytes": 19000, "container_memory_max_usage_bytes": 30000,
		"container_memory_cache": 4096, "container_memory_rss": 8192, "container_memory_mapped_file": 1024,
		"container_memory_swap": 500, "container_memory_kernel_usage": 512, "container_memory_failcnt": 5, "container_oom_events_total": 1,
		"container_threads": 3, "container_threads_max": 100, "container_processes": 2, "container_file_descriptors": 6, "container_sockets": 1,
		"container_spec_cpu_period": 100000, "container_spec_cpu_quota": 20000, "container_spec_cpu_shares": 512,
		"container_spec_memory_limit_bytes": 64 << 20, "container_spec_memory_swap_limit_bytes": 0,
		"container_spec_memory_reservation_limit_bytes": 0,
		"container_start_time_seconds":                  1700000000, "container_last_seen": 1700000100,
		"container_fs_usage_bytes": 8192, "container_fs_limit_bytes": 1 << 30, "container_fs_inodes_free": 900, "container_fs_inodes_total": 1000,
	})
	if v, _ := sample(ms, "container_cpu_usage_seconds_total", "total"); v != 3 {
		t.Errorf("cpu usage %d s, want 3", v)
	}
	for tail, want := range map[[2]string]uint64{{"pgfault", "container"}: 11, {"pgmajfault", "container"}: 2, {"pgfault", "hierarchy"}: 13, {"pgmajfault", "hierarchy"}: 3} {
		if v, ok := sample(ms, "container_memory_failures_total", tail[0], tail[1]); !ok || v != want {
			t.Errorf("failures %v = %d, want %d", tail, v, want)
		}
	}
	if v, ok := sample(ms, "container_blkio_device_usage_total", "/dev/sda", "8", "0", "Write"); !ok || v != 200 {
		t.Errorf("blkio write = %d, want 200", v)
	}
	if v, ok := sample(ms, "container_fs_writes_total", "/dev/sda"); !ok || v != 2 {
		t.Errorf("fs writes = %d, want 2", v)
	}
	if v, ok := sample(ms, "container_ulimits_soft", "max_open_files"); !ok || v != 1024 {
		t.Errorf("ulimit = %d, want 1024", v)
	}
	for _, name := range cadvisorNames {
		network := strings.HasPrefix(name, "container_network_")
		psi := strings.HasPrefix(name, "container_pressure_")
		if seen[name] == (network || psi) {
			t.Errorf("%s present %v (v1 has no PSI; network is the pod's)", name, seen[name])
		}
	}
}

func TestV2MetricsIncludePressureAndMemoryEvents(t *testing.T) {
	m := &v2.Metrics{
		CPU: &v2.CPUStat{UsageUsec: 2_500_000, UserUsec: 1_000_000, SystemUsec: 1_500_000, NrPeriods: 9, NrThrottled: 4, ThrottledUsec: 3_000_000,
			PSI: &v2.PSIStats{Some: &v2.PSIData{Total: 4_000_000}, Full: &v2.PSIData{Total: 1_000_000}}},
		Memory: &v2.MemoryStat{Usage: 10000, UsageLimit: 18446744073709551615, InactiveFile: 3000, File: 5000, Anon: 4000,
			FileMapped: 100, KernelStack: 16, Slab: 32, SwapUsage: 7, SwapLimit: 1 << 20, MaxUsage: 12000, Pgfault: 50, Pgmajfault: 5},
		MemoryEvents: &v2.MemoryEvents{Max: 3, OomKill: 2},
		Pids:         &v2.PidsStat{Current: 4},
		Io:           &v2.IOStat{Usage: []*v2.IOEntry{{Major: 259, Minor: 0, Rbytes: 10, Wbytes: 20, Rios: 1, Wios: 2}}},
	}
	cg, err := DecodeCgroup(anyOf(t, m))
	if err != nil {
		t.Fatal(err)
	}
	ms := (&Container{Labels: testLabels, Cgroup: cg, Procs: &Procs{Processes: 1, Threads: 1}, Now: time.Now()}).Metrics()
	seen := checkShape(t, ms, testLabels)
	wantValues(t, ms, map[string]uint64{
		"container_cpu_user_seconds_total": 1, "container_cpu_system_seconds_total": 1, "container_cpu_cfs_throttled_seconds_total": 3,
		"container_memory_working_set_bytes": 7000, "container_memory_cache": 5000, "container_memory_rss": 4000,
		"container_memory_kernel_usage": 48, "container_memory_swap": 7, "container_memory_failcnt": 3, "container_oom_events_total": 2,
		"container_memory_max_usage_bytes": 12000, "container_spec_memory_limit_bytes": 0, "container_spec_memory_swap_limit_bytes": 1 << 20,
		"container_threads": 4, "container_threads_max": 0, "container_spec_cpu_period": 100000, "container_spec_cpu_shares": 1024,
		"container_pressure_cpu_waiting_seconds_total": 4, "container_pressure_cpu_stalled_seconds_total": 1,
	})
	if v, ok := sample(ms, "container_fs_reads_bytes_total", "259:0"); !ok || v != 10 {
		t.Errorf("fs reads of an unnamed device = %d (%v), want 10", v, ok)
	}
	if seen["container_spec_cpu_quota"] {
		t.Error("a spec without quota reports container_spec_cpu_quota (cAdvisor leaves it out)")
	}
}

func TestThreadsComeFromProcWithoutThePidsController(t *testing.T) {
	cg := &Cgroup{}
	for _, c := range []*Container{{Cgroup: cg, Procs: &Procs{Threads: 5}}, {Procs: &Procs{Threads: 5}}} {
		ms := c.Metrics()
		if v, ok := sample(ms, "container_threads"); !ok || v != 5 {
			t.Errorf("threads = %d (%v), want 5", v, ok)
		}
		if _, ok := sample(ms, "container_threads_max"); !ok {
			t.Error("no container_threads_max")
		}
	}
}

func TestUnknownStatsTypeIsNotImplemented(t *testing.T) {
	_, err := DecodeCgroup(&anypb.Any{TypeUrl: "io.containerd.windows.Stats"})
	if !errdefs.IsNotImplemented(err) {
		t.Fatalf("err %v, want NotImplemented", err)
	}
}

const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    5390      41    1    2    0     0          0         0     1032      12    3    4    0     0       0          0
`

func TestNetDevGivesEachInterfaceButLoopback(t *testing.T) {
	ifaces, err := ParseNetDev(strings.NewReader(netDev))
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 2 || ifaces[1] != (Interface{Name: "eth0", RxBytes: 5390, RxPackets: 41, RxErrors: 1, RxDropped: 2,
		TxBytes: 1032, TxPackets: 12, TxErrors: 3, TxDropped: 4}) {
		t.Fatalf("parsed %+v", ifaces)
	}
	ms := Network(testLabels, ifaces)
	checkShape(t, ms, testLabels)
	if len(ms) != 8 {
		t.Fatalf("%d metrics, want eth0's 8", len(ms))
	}
	for name, want := range map[string]uint64{"container_network_receive_bytes_total": 5390, "container_network_transmit_errors_total": 3,
		"container_network_receive_packets_dropped_total": 2, "container_network_transmit_packets_total": 12} {
		if v, ok := sample(ms, name, "eth0"); !ok || v != want {
			t.Errorf("%s = %d, want %d", name, v, want)
		}
	}
	if _, err := ParseNetDev(strings.NewReader("h\nh\neth0: 1 2 3\n")); err == nil {
		t.Error("a short line parsed")
	}
}

func TestSpecOfReadsCPUAndReservation(t *testing.T) {
	period, shares := uint64(50000), uint64(256)
	quota, res := int64(25000), int64(1<<20)
	s := SpecOf(&specs.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{
		CPU: &specs.LinuxCPU{Period: &period, Quota: &quota, Shares: &shares}, Memory: &specs.LinuxMemory{Reservation: &res}}}})
	if s != (Spec{CPUPeriod: 50000, CPUQuota: 25000, CPUShares: 256, MemoryReservation: 1 << 20}) {
		t.Fatalf("spec %+v", s)
	}
	if SpecOf(&specs.Spec{}) != (Spec{}) || SpecOf(nil) != (Spec{}) {
		t.Fatal("an empty spec asks something")
	}
}
