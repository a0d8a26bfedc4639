package metrics

import (
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
)

func fromV2(m *v2.Metrics) *Cgroup {
	c := &Cgroup{}
	cpu := m.GetCPU()
	c.CPU = CPU{Total: cpu.GetUsageUsec() * 1000, User: cpu.GetUserUsec() * 1000, System: cpu.GetSystemUsec() * 1000,
		Periods: cpu.GetNrPeriods(), ThrottledPeriods: cpu.GetNrThrottled(), ThrottledTime: cpu.GetThrottledUsec() * 1000}
	c.Memory = memoryV2(m.GetMemory(), m.GetMemoryEvents())
	if p := m.GetPids(); p != nil {
		c.Pids = &Pids{Current: p.GetCurrent(), Limit: p.GetLimit()}
	}
	for _, h := range m.GetHugetlb() {
		c.Hugetlb = append(c.Hugetlb, Hugetlb{Pagesize: h.GetPagesize(), Usage: h.GetCurrent()})
	}
	for _, e := range m.GetIo().GetUsage() {
		c.Blkio = append(c.Blkio, Blkio{Major: e.GetMajor(), Minor: e.GetMinor(),
			ReadBytes: e.GetRbytes(), WriteBytes: e.GetWbytes(), Reads: e.GetRios(), Writes: e.GetWios()})
	}
	c.PSI = psiV2(m)
	return c
}

// memoryV2 counts as cAdvisor does on v2: file pages are the cache,
// anonymous pages the RSS, the "max" events the failures to stay under
// the limit. v2 statistics include descendants, so both fault scopes
// read the same.
func memoryV2(m *v2.MemoryStat, ev *v2.MemoryEvents) Memory {
	usage := m.GetUsage()
	return Memory{
		Usage: usage, MaxUsage: m.GetMaxUsage(), Limit: m.GetUsageLimit(),
		WorkingSet: sub(usage, m.GetInactiveFile()),
		Cache:      m.GetFile(), RSS: m.GetAnon(), MappedFile: m.GetFileMapped(),
		Swap: m.GetSwapUsage(), SwapLimit: m.GetSwapLimit(),
		Kernel: m.GetKernelStack() + m.GetSlab(), Failcnt: ev.GetMax(), OOMKills: ev.GetOomKill(),
		PgFault: m.GetPgfault(), PgMajFault: m.GetPgmajfault(),
		HierarchyPgFault: m.GetPgfault(), HierarchyPgMajFault: m.GetPgmajfault(),
	}
}

// psiV2 is nil when the kernel reports no pressure at all.
func psiV2(m *v2.Metrics) *PSI {
	cpu, mem, io := m.GetCPU().GetPSI(), m.GetMemory().GetPSI(), m.GetIo().GetPSI()
	if cpu == nil && mem == nil && io == nil {
		return nil
	}
	us := func(d *v2.PSIData) uint64 { return d.GetTotal() * 1000 }
	return &PSI{CPUSome: us(cpu.GetSome()), CPUFull: us(cpu.GetFull()),
		MemorySome: us(mem.GetSome()), MemoryFull: us(mem.GetFull()),
		IOSome: us(io.GetSome()), IOFull: us(io.GetFull())}
}
