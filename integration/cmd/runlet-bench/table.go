package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
)

func processAny(spec []byte) *anypb.Any {
	return &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", Value: spec}
}

func printTable(out io.Writer, shims []benchShim, runs int, res map[string]map[string][]time.Duration, mem map[string]string) {
	fmt.Fprintf(out, "shim latencies, median of %d runs (ms)\n", runs)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "shim\t")
	for _, p := range phases {
		fmt.Fprintf(w, "%s\t", p)
	}
	fmt.Fprintf(w, "RSS / PSS of a 2-container pod, %s after start (MiB)\t\n", settle)
	for _, s := range shims {
		fmt.Fprintf(w, "%s\t", s.name)
		for _, p := range phases {
			fmt.Fprintf(w, "%.1f\t", float64(median(res[s.name][p]).Microseconds())/1000)
		}
		fmt.Fprintf(w, "%s\t\n", mem[s.name])
	}
	w.Flush()
}
