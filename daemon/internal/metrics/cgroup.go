package metrics

import (
	"fmt"
	"strings"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Cgroup is a container's cgroup metrics, v1 or v2, in one shape: times
// in nanoseconds, sizes in bytes.
type Cgroup struct {
	CPU     CPU
	Memory  Memory
	Pids    *Pids // nil without the pids controller
	Hugetlb []Hugetlb
	Blkio   []Blkio
	PSI     *PSI // nil on cgroup v1 and kernels without PSI
}

// CPU is cpuacct (v1) or cpu.stat (v2).
type CPU struct {
	Total, User, System                      uint64
	Periods, ThrottledPeriods, ThrottledTime uint64
}

// Memory is the memory controller's usage, limits and events.
type Memory struct {
	Usage, MaxUsage, WorkingSet, Limit      uint64
	Cache, RSS, MappedFile, Swap, SwapLimit uint64
	Kernel, Failcnt, OOMKills               uint64
	PgFault, PgMajFault                     uint64 // this cgroup's own
	HierarchyPgFault, HierarchyPgMajFault   uint64 // with its descendants
}

// Pids is the pids controller: tasks (threads) and their limit (0: none).
type Pids struct{ Current, Limit uint64 }

// Hugetlb is one huge page size's usage.
type Hugetlb struct {
	Pagesize        string
	Usage, MaxUsage uint64
	HasMax          bool // v2 keeps no maximum
}

// Blkio is one block device's I/O.
type Blkio struct {
	Major, Minor          uint64
	Device                string // "" until named (NameDevices)
	ReadBytes, WriteBytes uint64
	Reads, Writes         uint64
}

// PSI is pressure stall time in nanoseconds: "some" tasks waited, "full":
// all stalled.
type PSI struct {
	CPUSome, CPUFull, MemorySome, MemoryFull, IOSome, IOFull uint64
}

// DecodeCgroup reads a shim's Stats answer: io.containerd.cgroups.v1.Metrics
// or io.containerd.cgroups.v2.Metrics. Other types are NotImplemented.
func DecodeCgroup(a *anypb.Any) (*Cgroup, error) {
	switch {
	case strings.HasSuffix(a.GetTypeUrl(), "io.containerd.cgroups.v1.Metrics"):
		var m v1.Metrics
		if err := proto.Unmarshal(a.GetValue(), &m); err != nil {
			return nil, fmt.Errorf("cgroup v1 metrics: %w", err)
		}
		return fromV1(&m), nil
	case strings.HasSuffix(a.GetTypeUrl(), "io.containerd.cgroups.v2.Metrics"):
		var m v2.Metrics
		if err := proto.Unmarshal(a.GetValue(), &m); err != nil {
			return nil, fmt.Errorf("cgroup v2 metrics: %w", err)
		}
		return fromV2(&m), nil
	}
	return nil, fmt.Errorf("metrics of type %q: %w", a.GetTypeUrl(), errdefs.ErrNotImplemented)
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
