package metrics

import (
	"strconv"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Container is what one container's metrics (or a pod sandbox's, for its
// pause process) are made of. Parts runletd could not read are nil.
type Container struct {
	Labels    Labels
	Cgroup    *Cgroup
	Procs     *Procs
	FS        *FS
	Spec      Spec
	StartedAt time.Time
	Now       time.Time
}

// Spec is what the container's OCI spec asks of the CPU and memory
// controllers; 0 where it asks nothing.
type Spec struct {
	CPUPeriod, CPUQuota, CPUShares uint64
	MemoryReservation              uint64
}

// Metrics returns every metric the container's parts allow.
func (c *Container) Metrics() []*runtimeapi.Metric {
	b := newBuilder(c.Labels)
	b.add("container_last_seen", uint64(c.Now.Unix()))
	if !c.StartedAt.IsZero() {
		b.add("container_start_time_seconds", uint64(c.StartedAt.Unix()))
	}
	if c.Cgroup != nil {
		b.cpu(c.Cgroup.CPU)
		b.memory(c.Cgroup.Memory)
		b.hugetlb(c.Cgroup.Hugetlb)
		b.blkio(c.Cgroup.Blkio)
		b.psi(c.Cgroup.PSI)
	}
	b.processes(c.Cgroup, c.Procs)
	if c.FS != nil {
		b.fs(c.FS)
	}
	b.spec(c.Spec, c.Cgroup)
	return b.out
}

func (b *builder) cpu(c CPU) {
	b.add("container_cpu_usage_seconds_total", seconds(c.Total), "total")
	b.add("container_cpu_user_seconds_total", seconds(c.User))
	b.add("container_cpu_system_seconds_total", seconds(c.System))
	b.add("container_cpu_cfs_periods_total", c.Periods)
	b.add("container_cpu_cfs_throttled_periods_total", c.ThrottledPeriods)
	b.add("container_cpu_cfs_throttled_seconds_total", seconds(c.ThrottledTime))
}

func (b *builder) memory(m Memory) {
	b.add("container_memory_cache", m.Cache)
	b.add("container_memory_rss", m.RSS)
	b.add("container_memory_mapped_file", m.MappedFile)
	b.add("container_memory_swap", m.Swap)
	b.add("container_memory_kernel_usage", m.Kernel)
	b.add("container_memory_failcnt", m.Failcnt)
	b.add("container_memory_usage_bytes", m.Usage)
	b.add("container_memory_max_usage_bytes", m.MaxUsage)
	b.add("container_memory_working_set_bytes", m.WorkingSet)
	b.add("container_memory_failures_total", m.PgFault, "pgfault", "container")
	b.add("container_memory_failures_total", m.PgMajFault, "pgmajfault", "container")
	b.add("container_memory_failures_total", m.HierarchyPgFault, "pgfault", "hierarchy")
	b.add("container_memory_failures_total", m.HierarchyPgMajFault, "pgmajfault", "hierarchy")
	b.add("container_oom_events_total", m.OOMKills)
}

func (b *builder) hugetlb(hs []Hugetlb) {
	for _, h := range hs {
		b.add("container_hugetlb_usage_bytes", h.Usage, h.Pagesize)
		if h.HasMax {
			b.add("container_hugetlb_max_usage_bytes", h.MaxUsage, h.Pagesize)
		}
	}
}

func (b *builder) blkio(ds []Blkio) {
	for _, d := range ds {
		dev := d.Device
		if dev == "" {
			dev = strconv.FormatUint(d.Major, 10) + ":" + strconv.FormatUint(d.Minor, 10)
		}
		major, minor := strconv.FormatUint(d.Major, 10), strconv.FormatUint(d.Minor, 10)
		b.add("container_blkio_device_usage_total", d.ReadBytes, dev, major, minor, "Read")
		b.add("container_blkio_device_usage_total", d.WriteBytes, dev, major, minor, "Write")
		b.add("container_fs_reads_bytes_total", d.ReadBytes, dev)
		b.add("container_fs_reads_total", d.Reads, dev)
		b.add("container_fs_writes_bytes_total", d.WriteBytes, dev)
		b.add("container_fs_writes_total", d.Writes, dev)
	}
}

func (b *builder) psi(p *PSI) {
	if p == nil {
		return
	}
	b.add("container_pressure_cpu_waiting_seconds_total", seconds(p.CPUSome))
	b.add("container_pressure_cpu_stalled_seconds_total", seconds(p.CPUFull))
	b.add("container_pressure_memory_waiting_seconds_total", seconds(p.MemorySome))
	b.add("container_pressure_memory_stalled_seconds_total", seconds(p.MemoryFull))
	b.add("container_pressure_io_waiting_seconds_total", seconds(p.IOSome))
	b.add("container_pressure_io_stalled_seconds_total", seconds(p.IOFull))
}

// processes reports the process table. Threads are the pids controller's
// count of tasks when there is one, else the threads of the container's
// processes as /proc lists them, so every container has container_threads.
func (b *builder) processes(cg *Cgroup, p *Procs) {
	var pids *Pids
	if cg != nil {
		pids = cg.Pids
	}
	switch {
	case pids != nil && pids.Current > 0:
		b.add("container_threads", pids.Current)
	case p != nil:
		b.add("container_threads", p.Threads)
	}
	if pids != nil {
		b.add("container_threads_max", limit(pids.Limit))
	} else if p != nil {
		b.add("container_threads_max", 0)
	}
	if p == nil {
		return
	}
	b.add("container_processes", p.Processes)
	b.add("container_file_descriptors", p.FDs)
	b.add("container_sockets", p.Sockets)
	if p.NoFileSoft > 0 {
		b.add("container_ulimits_soft", p.NoFileSoft, "max_open_files")
	}
}

func (b *builder) fs(f *FS) {
	b.add("container_fs_inodes_free", f.InodesFree, f.Device)
	b.add("container_fs_inodes_total", f.InodesTotal, f.Device)
	b.add("container_fs_limit_bytes", f.Limit, f.Device)
	b.add("container_fs_usage_bytes", f.Usage, f.Device)
}

// spec reports the CPU settings of the spec and the memory limits the
// cgroup enforces (they follow updates; 0 is no limit).
func (b *builder) spec(s Spec, cg *Cgroup) {
	period, shares := s.CPUPeriod, s.CPUShares
	if period == 0 {
		period = 100000 // the kernel's default CFS period, in microseconds
	}
	if shares == 0 {
		shares = 1024 // the kernel's default cpu.shares
	}
	b.add("container_spec_cpu_period", period)
	b.add("container_spec_cpu_shares", shares)
	if s.CPUQuota > 0 {
		b.add("container_spec_cpu_quota", s.CPUQuota)
	}
	b.add("container_spec_memory_reservation_limit_bytes", limit(s.MemoryReservation))
	if cg != nil {
		b.add("container_spec_memory_limit_bytes", limit(cg.Memory.Limit))
		b.add("container_spec_memory_swap_limit_bytes", limit(cg.Memory.SwapLimit))
	}
}
