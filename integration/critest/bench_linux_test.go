package critest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// benchmarkParams sizes critest's benchmarks for this 2-core machine, on
// images of the local registry.
const benchmarkParams = `containersNumber: 20
containersNumberParallel: 2
containerBenchmarkTimeoutSeconds: 60
podsNumber: 20
podsNumberParallel: 2
podBenchmarkTimeoutSeconds: 60
imagesNumber: 10
imagesNumberParallel: 2
imageBenchmarkTimeoutSeconds: 60
imagePullingBenchmarkImage: gcr.io/k8s-staging-cri-tools/test-image-latest:latest
imageListingBenchmarkImages:
- gcr.io/k8s-staging-cri-tools/test-image-1:latest
- gcr.io/k8s-staging-cri-tools/test-image-2:latest
- gcr.io/k8s-staging-cri-tools/test-image-3:latest
podContainerStartBenchmarkTimeoutSeconds: 60
`

// TestCritestBenchmarkOnRunletd runs `critest -benchmark` against runletd
// on each handler and logs its measurements. It is a benchmark, not a
// test: make bench runs it (RUNLET_CRITEST_BENCHMARK=1).
func TestCritestBenchmarkOnRunletd(t *testing.T) {
	if os.Getenv("RUNLET_CRITEST_BENCHMARK") == "" {
		t.Skip("a benchmark: make bench runs it with RUNLET_CRITEST_BENCHMARK=1")
	}
	daemontest.NeedRoot(t)
	critest := daemontest.Tool(t, "critest")
	bundletest.EnsureHybridCgroupsForCrun(t)
	dir, d := startEnvironment(t, critest)
	params := filepath.Join(dir, "benchmark.yaml")
	if err := os.WriteFile(params, []byte(benchmarkParams), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, handler := range []string{"", "crun"} {
		name, outDir := handler, filepath.Join(dir, "bench-"+handler)
		if handler == "" {
			name, outDir = "runc (default)", filepath.Join(dir, "bench-default")
		}
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			t.Fatal(err)
		}
		args := []string{"-benchmark", "-runtime-endpoint", "unix://" + d.Sock, "-image-endpoint", "unix://" + d.Sock,
			"-benchmarking-params-file", params, "-benchmarking-output-dir", outDir,
			"-ginkgo.no-color", "-test.timeout", "0"}
		if handler != "" {
			args = append(args, "-runtime-handler", handler)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		cmd := exec.CommandContext(ctx, critest, args...)
		cmd.Env = append(os.Environ(), "TMPDIR="+dir)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("critest -benchmark on %s: %v\n%s", name, err, lastBytes(out, 8000))
			continue
		}
		fmt.Printf("=== critest -benchmark, runletd, handler %s\n%s\n%s\n", name, measurements(string(out)), lifecycles(t, outDir))
	}
}

// measurements keeps the gmeasure tables and the summary of critest's
// output.
func measurements(out string) string {
	var keep []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "Name") && strings.Contains(line, "Mean"):
			in = true
		case strings.HasPrefix(line, "Ran ") || strings.Contains(line, "Passed |"):
			keep = append(keep, line)
		}
		if in {
			keep = append(keep, line)
			if strings.TrimSpace(line) == "" {
				in = false
			}
		}
	}
	return strings.Join(keep, "\n")
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// lifecycleResults is the JSON critest writes for its lifecycle benchmarks
// (pkg/benchmark LifecycleBenchmarksResultsSet).
type lifecycleResults struct {
	OperationsNames []string `json:"operationsNames"`
	NumParallel     int      `json:"numParallel"`
	Datapoints      []struct {
		OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
	} `json:"datapoints"`
}

// lifecycles summarizes the lifecycle results in dir: per operation the
// count, median, mean, 90th percentile and maximum.
func lifecycles(t *testing.T, dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var b strings.Builder
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		var r lifecycleResults
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		fmt.Fprintf(&b, "%s (%d in parallel)\n", strings.TrimSuffix(filepath.Base(f), ".json"), r.NumParallel)
		for i, op := range r.OperationsNames {
			var ds []time.Duration
			for _, p := range r.Datapoints {
				if i < len(p.OperationsDurationsNs) {
					ds = append(ds, time.Duration(p.OperationsDurationsNs[i]))
				}
			}
			if len(ds) == 0 {
				continue
			}
			slices.Sort(ds)
			var sum time.Duration
			for _, d := range ds {
				sum += d
			}
			fmt.Fprintf(&b, "    %-22s n=%-3d median %-10v mean %-10v p90 %-10v max %v\n", op, len(ds),
				ds[len(ds)/2].Round(10*time.Microsecond), (sum / time.Duration(len(ds))).Round(10*time.Microsecond),
				ds[len(ds)*9/10].Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
		}
	}
	return b.String()
}
