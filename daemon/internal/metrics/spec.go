package metrics

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SpecOf reads the CPU and memory settings of an OCI spec.
func SpecOf(s *specs.Spec) Spec {
	var out Spec
	if s == nil || s.Linux == nil || s.Linux.Resources == nil {
		return out
	}
	if cpu := s.Linux.Resources.CPU; cpu != nil {
		if cpu.Period != nil {
			out.CPUPeriod = *cpu.Period
		}
		if cpu.Quota != nil && *cpu.Quota > 0 {
			out.CPUQuota = uint64(*cpu.Quota)
		}
		if cpu.Shares != nil {
			out.CPUShares = *cpu.Shares
		}
	}
	if mem := s.Linux.Resources.Memory; mem != nil && mem.Reservation != nil && *mem.Reservation > 0 {
		out.MemoryReservation = uint64(*mem.Reservation)
	}
	return out
}
