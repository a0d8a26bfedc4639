package metrics

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Interface is one network interface's counters.
type Interface struct {
	Name                                    string
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// ParseNetDev reads /proc/net/dev: two header lines, then "name: " and
// sixteen counters (eight received, eight transmitted).
func ParseNetDev(r io.Reader) ([]Interface, error) {
	var out []Interface
	sc := bufio.NewScanner(r)
	for line := 0; sc.Scan(); line++ {
		if line < 2 {
			continue
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			return nil, fmt.Errorf("net/dev line %d: no interface name", line+1)
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("net/dev line %d: %d counters, want 16", line+1, len(f))
		}
		var v [16]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("net/dev line %d: %w", line+1, err)
			}
			v[i] = n
		}
		out = append(out, Interface{Name: strings.TrimSpace(name),
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11]})
	}
	return out, sc.Err()
}

// Network returns a pod's network metrics, one set per interface but
// loopback, which cAdvisor leaves out too.
func Network(l Labels, ifaces []Interface) []*runtimeapi.Metric {
	b := newBuilder(l)
	for _, i := range ifaces {
		if i.Name == "lo" {
			continue
		}
		b.add("container_network_receive_bytes_total", i.RxBytes, i.Name)
		b.add("container_network_receive_packets_total", i.RxPackets, i.Name)
		b.add("container_network_receive_packets_dropped_total", i.RxDropped, i.Name)
		b.add("container_network_receive_errors_total", i.RxErrors, i.Name)
		b.add("container_network_transmit_bytes_total", i.TxBytes, i.Name)
		b.add("container_network_transmit_packets_total", i.TxPackets, i.Name)
		b.add("container_network_transmit_packets_dropped_total", i.TxDropped, i.Name)
		b.add("container_network_transmit_errors_total", i.TxErrors, i.Name)
	}
	return b.out
}
