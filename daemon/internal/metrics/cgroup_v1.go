package metrics

import (
	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
)

func fromV1(m *v1.Metrics) *Cgroup {
	c := &Cgroup{}
	cpu := m.GetCPU()
	c.CPU = CPU{Total: cpu.GetUsage().GetTotal(), User: cpu.GetUsage().GetUser(), System: cpu.GetUsage().GetKernel(),
		Periods: cpu.GetThrottling().GetPeriods(), ThrottledPeriods: cpu.GetThrottling().GetThrottledPeriods(),
		ThrottledTime: cpu.GetThrottling().GetThrottledTime()}
	c.Memory = memoryV1(m.GetMemory())
	c.Memory.OOMKills = m.GetMemoryOomControl().GetOomKill()
	if p := m.GetPids(); p != nil {
		c.Pids = &Pids{Current: p.GetCurrent(), Limit: p.GetLimit()}
	}
	for _, h := range m.GetHugetlb() {
		c.Hugetlb = append(c.Hugetlb, Hugetlb{Pagesize: h.GetPagesize(), Usage: h.GetUsage(), MaxUsage: h.GetMax(), HasMax: true})
	}
	c.Blkio = blkioV1(m.GetBlkio())
	return c
}

// memoryV1 counts as cAdvisor does on a hierarchical v1 memory cgroup:
// the total_* statistics, swap as memsw less memory, the working set as
// usage less inactive files.
func memoryV1(m *v1.MemoryStat) Memory {
	usage := m.GetUsage().GetUsage()
	return Memory{
		Usage: usage, MaxUsage: m.GetUsage().GetMax(), Limit: m.GetUsage().GetLimit(),
		WorkingSet: sub(usage, m.GetTotalInactiveFile()),
		Cache:      m.GetTotalCache(), RSS: m.GetTotalRSS(), MappedFile: m.GetTotalMappedFile(),
		Swap: sub(m.GetSwap().GetUsage(), usage), SwapLimit: m.GetSwap().GetLimit(),
		Kernel: m.GetKernel().GetUsage(), Failcnt: m.GetUsage().GetFailcnt(),
		PgFault: m.GetPgFault(), PgMajFault: m.GetPgMajFault(),
		HierarchyPgFault: m.GetTotalPgFault(), HierarchyPgMajFault: m.GetTotalPgMajFault(),
	}
}

// blkioV1 groups the service bytes and counts by device.
func blkioV1(b *v1.BlkIOStat) []Blkio {
	var out []Blkio
	find := func(e *v1.BlkIOEntry) *Blkio {
		for i := range out {
			if out[i].Major == e.GetMajor() && out[i].Minor == e.GetMinor() {
				return &out[i]
			}
		}
		out = append(out, Blkio{Major: e.GetMajor(), Minor: e.GetMinor(), Device: e.GetDevice()})
		return &out[len(out)-1]
	}
	for _, e := range b.GetIoServiceBytesRecursive() {
		switch e.GetOp() {
		case "Read":
			find(e).ReadBytes = e.GetValue()
		case "Write":
			find(e).WriteBytes = e.GetValue()
		}
	}
	for _, e := range b.GetIoServicedRecursive() {
		switch e.GetOp() {
		case "Read":
			find(e).Reads = e.GetValue()
		case "Write":
			find(e).Writes = e.GetValue()
		}
	}
	return out
}
