package critest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// lifecycleResults is the JSON critest writes for its lifecycle benchmarks
// (pkg/benchmark LifecycleBenchmarksResultsSet).
type lifecycleResults struct {
	OperationsNames []string `json:"operationsNames"`
	NumParallel     int      `json:"numParallel"`
	Datapoints      []struct {
		OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
	} `json:"datapoints"`
}

// benchRun is one `critest -benchmark` run: a runtime on one handler and
// its lifecycle results by benchmark (the JSON file's base name).
type benchRun struct {
	Runtime, Handler string
	Sets             map[string]lifecycleResults
}

// readLifecycles reads the lifecycle results critest wrote in dir.
func readLifecycles(dir string) (map[string]lifecycleResults, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sets := map[string]lifecycleResults{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r lifecycleResults
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		sets[strings.TrimSuffix(filepath.Base(f), ".json")] = r
	}
	return sets, nil
}

// opStats summarizes one operation's durations.
type opStats struct {
	n                      int
	median, mean, p90, max time.Duration
}

// stats summarizes operation i of r; false when no datapoint has it.
func (r lifecycleResults) stats(i int) (opStats, bool) {
	var ds []time.Duration
	for _, p := range r.Datapoints {
		if i < len(p.OperationsDurationsNs) {
			ds = append(ds, time.Duration(p.OperationsDurationsNs[i]))
		}
	}
	if len(ds) == 0 {
		return opStats{}, false
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return opStats{n: len(ds), median: round(ds[len(ds)/2]), mean: round(sum / time.Duration(len(ds))),
		p90: round(ds[len(ds)*9/10]), max: round(ds[len(ds)-1])}, true
}

// cellWidth is the width of one runtime's column group.
const cellWidth = 65

func (s opStats) String() string {
	return fmt.Sprintf("n=%-3d median %-9v mean %-9v p90 %-9v max %-9v", s.n, s.median, s.mean, s.p90, s.max)
}

// sideBySide lays out the runs' results per handler, benchmark and
// operation, one column group per runtime, in the order of runs.
func sideBySide(runs []benchRun) string {
	var b strings.Builder
	var handlers []string
	for _, r := range runs {
		if !slices.Contains(handlers, r.Handler) {
			handlers = append(handlers, r.Handler)
		}
	}
	for _, h := range handlers {
		var cols []benchRun
		for _, r := range runs {
			if r.Handler == h {
				cols = append(cols, r)
			}
		}
		fmt.Fprintf(&b, "=== critest -benchmark lifecycles, handler %s\n", h)
		writeHandlerTable(&b, cols)
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func writeHandlerTable(b *strings.Builder, cols []benchRun) {
	fmt.Fprintf(b, "    %-22s", "")
	for _, c := range cols {
		fmt.Fprintf(b, " | %-*s", cellWidth, c.Runtime)
	}
	b.WriteString("\n")
	for _, name := range benchmarkNames(cols) {
		var ops []string
		parallel := 0
		for _, c := range cols {
			if r, ok := c.Sets[name]; ok {
				parallel = max(parallel, r.NumParallel)
				for _, op := range r.OperationsNames {
					if !slices.Contains(ops, op) {
						ops = append(ops, op)
					}
				}
			}
		}
		fmt.Fprintf(b, "%s (%d in parallel)\n", name, parallel)
		for _, op := range ops {
			fmt.Fprintf(b, "    %-22s", op)
			for _, c := range cols {
				fmt.Fprintf(b, " | %-*s", cellWidth, cell(c.Sets[name], op))
			}
			b.WriteString("\n")
		}
	}
}

// cell is op's summary in r, or a dash when r lacks it (the run failed).
func cell(r lifecycleResults, op string) string {
	i := slices.Index(r.OperationsNames, op)
	if i < 0 {
		return "-"
	}
	s, ok := r.stats(i)
	if !ok {
		return "-"
	}
	return s.String()
}

func benchmarkNames(cols []benchRun) []string {
	var names []string
	for _, c := range cols {
		for _, n := range sortedKeys(c.Sets) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

func sortedKeys(m map[string]lifecycleResults) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
