package critest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// benchmarkParams sizes critest's benchmarks: 20 pods, 20 containers and
// 10 images, one at a time (latencies, not throughput), on images of the
// local registry.
const benchmarkParams = `containersNumber: 20
containersNumberParallel: 1
containerBenchmarkTimeoutSeconds: 60
podsNumber: 20
podsNumberParallel: 1
podBenchmarkTimeoutSeconds: 60
imagesNumber: 10
imagesNumberParallel: 1
imageBenchmarkTimeoutSeconds: 60
imagePullingBenchmarkImage: gcr.io/k8s-staging-cri-tools/test-image-latest:latest
imageListingBenchmarkImages:
- gcr.io/k8s-staging-cri-tools/test-image-1:latest
- gcr.io/k8s-staging-cri-tools/test-image-2:latest
- gcr.io/k8s-staging-cri-tools/test-image-3:latest
podContainerStartBenchmarkTimeoutSeconds: 60
`

// TestCritestBenchmark runs `critest -benchmark` on each handler against
// runletd and, when it is installed, against containerd, then prints the
// lifecycle results side by side. It is a benchmark, not a test: make bench
// runs it (RUNLET_CRITEST_BENCHMARK=1).
func TestCritestBenchmark(t *testing.T) {
	if os.Getenv("RUNLET_CRITEST_BENCHMARK") == "" {
		t.Skip("a benchmark: make bench runs it with RUNLET_CRITEST_BENCHMARK=1")
	}
	daemontest.NeedRoot(t)
	critest := daemontest.Tool(t, "critest")
	bundletest.EnsureHybridCgroupsForCrun(t)
	var runs []benchRun
	t.Run("runletd", func(t *testing.T) {
		dir, d := startEnvironment(t, critest)
		runs = append(runs, benchmarkHandlers(t, critest, dir, "unix://"+d.Sock)...)
	})
	t.Run("containerd", func(t *testing.T) {
		if _, err := os.Stat(containerdBin); err != nil {
			fmt.Printf("=== critest -benchmark: containerd not installed (%s); runletd benchmarked alone\n", containerdBin)
			t.Skipf("containerd not installed (%s): nothing to compare runletd with", containerdBin)
		}
		dir, c := startContainerdEnvironment(t, critest)
		runs = append(runs, benchmarkHandlers(t, critest, dir, c.endpoint())...)
	})
	fmt.Print(sideBySide(runs))
}

// benchmarkHandlers runs `critest -benchmark` against the CRI at endpoint
// on the default handler and on crun, printing critest's measurements;
// its files go under dir.
func benchmarkHandlers(t *testing.T, critest, dir, endpoint string) []benchRun {
	t.Helper()
	params := filepath.Join(dir, "benchmark.yaml")
	if err := os.WriteFile(params, []byte(benchmarkParams), 0o644); err != nil {
		t.Fatal(err)
	}
	name := criVersion(t, endpoint)
	var runs []benchRun
	for _, handler := range []string{"", "crun"} {
		label, outDir := handler, filepath.Join(dir, "bench-"+handler)
		if handler == "" {
			label, outDir = "runc (default)", filepath.Join(dir, "bench-default")
		}
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			t.Fatal(err)
		}
		args := []string{"-benchmark", "-runtime-endpoint", endpoint, "-image-endpoint", endpoint,
			"-benchmarking-params-file", params, "-benchmarking-output-dir", outDir,
			"-ginkgo.no-color", "-test.timeout", "0"}
		if handler != "" {
			args = append(args, "-runtime-handler", handler)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		cmd := exec.CommandContext(ctx, critest, args...)
		cmd.Env = append(os.Environ(), "TMPDIR="+dir)
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		cancel()
		run := benchRun{Runtime: name, Handler: label}
		if err != nil {
			t.Errorf("critest -benchmark on %s, handler %s: %v\n%s", name, label, err, lastBytes(out, 8000))
			runs = append(runs, run)
			continue
		}
		if run.Sets, err = readLifecycles(outDir); err != nil {
			t.Error(err)
		}
		runs = append(runs, run)
		fmt.Printf("=== critest -benchmark, %s, handler %s\n%s\n", name, label, measurements(string(out)))
	}
	return runs
}

// criVersion names the runtime serving the CRI at endpoint ("runletd
// 0.1.0", "containerd 1.6.20~ds1").
func criVersion(t *testing.T, endpoint string) string {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := runtime.NewRuntimeServiceClient(conn).Version(ctx, &runtime.VersionRequest{})
	if err != nil {
		t.Fatalf("CRI Version at %s: %v", endpoint, err)
	}
	return v.GetRuntimeName() + " " + v.GetRuntimeVersion()
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
		case in && (strings.Contains(line, " | ") || strings.HasPrefix(strings.TrimSpace(line), "===")):
		default:
			in = false
		}
		if in || strings.HasPrefix(line, "Ran ") || strings.Contains(line, "Passed |") {
			keep = append(keep, line)
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
