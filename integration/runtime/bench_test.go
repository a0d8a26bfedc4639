package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// phases of the pod lifecycle, as critest -benchmark times them.
var phases = []string{"RunPodSandbox", "CreateContainer", "StartContainer", "StopContainer", "RemoveContainer", "StopPodSandbox", "RemovePodSandbox"}

// benchDaemon is a runletd with busybox imported, for benchmarks.
func benchDaemon(b *testing.B) *fixture {
	b.Helper()
	daemontest.NeedRoot(b)
	root := daemontest.ShortTempDir(b)
	extra := "[images]\nimport_dir = \"" + busyboxImportDir(b) + "\"\n[network]\ncni_conf_dir = \"" + filepath.Join(root, "net.d") + "\"\n"
	return &fixture{Daemon: daemontest.StartIn(b, root, extra), cgroup: "/runlet-bench-" + randomHex(4)}
}

// BenchmarkPodLifecycle times each CRI call of a pod with one container,
// through the Go CRI client (no crictl cost), on each handler, and reports
// the median and p90 of every phase in milliseconds.
func BenchmarkPodLifecycle(b *testing.B) {
	for _, h := range []string{"runc", "crun"} {
		b.Run(h, func(b *testing.B) {
			f := benchDaemon(b)
			b.Cleanup(func() { removeCgroup(b, f.cgroup) })
			times := map[string][]time.Duration{}
			for i := 0; i < b.N; i++ {
				if err := f.lifecycle(h, i, times); err != nil {
					b.Fatal(err)
				}
			}
			for _, p := range phases {
				b.ReportMetric(ms(percentile(times[p], 50)), p+"-p50-ms")
				b.ReportMetric(ms(percentile(times[p], 90)), p+"-p90-ms")
			}
		})
	}
}

// lifecycle runs one pod and container through every phase.
func (f *fixture) lifecycle(handler string, i int, times map[string][]time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := f.Runtime
	meta := &runtimeapi.PodSandboxMetadata{Name: fmt.Sprintf("bench-%d", i), Namespace: "bench", Uid: randomHex(8)}
	sbCfg := &runtimeapi.PodSandboxConfig{Metadata: meta, Hostname: "bench", LogDirectory: filepath.Join(f.Dir, "logs", meta.Uid),
		Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: f.cgroup}}
	var podID, ctrID string
	steps := []struct {
		phase string
		do    func() error
	}{
		{"RunPodSandbox", func() (err error) {
			r, err := rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg, RuntimeHandler: handler})
			podID = r.GetPodSandboxId()
			return err
		}},
		{"CreateContainer", func() (err error) {
			r, err := rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: podID, SandboxConfig: sbCfg,
				Config: &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
					Image: &runtimeapi.ImageSpec{Image: busybox}, Command: []string{"sleep", "1000"}, LogPath: "c.log"}})
			ctrID = r.GetContainerId()
			return err
		}},
		{"StartContainer", func() error {
			_, err := rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: ctrID})
			return err
		}},
		{"StopContainer", func() error {
			_, err := rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: ctrID, Timeout: 0})
			return err
		}},
		{"RemoveContainer", func() error {
			_, err := rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: ctrID})
			return err
		}},
		{"StopPodSandbox", func() error {
			_, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podID})
			return err
		}},
		{"RemovePodSandbox", func() error {
			_, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podID})
			return err
		}},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.phase, err)
		}
		times[s.phase] = append(times[s.phase], time.Since(t0))
	}
	return nil
}

// BenchmarkRunletdRSS reports runletd's resident memory idle and with ten
// ready pods.
func BenchmarkRunletdRSS(b *testing.B) {
	f := benchDaemon(b)
	b.Cleanup(func() { removeCgroup(b, f.cgroup) })
	time.Sleep(time.Second)
	idle := rssMiB(f.Proc.Pid())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var pods []string
	for i := 0; i < 10; i++ {
		r, err := f.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: &runtimeapi.PodSandboxConfig{
			Metadata: &runtimeapi.PodSandboxMetadata{Name: fmt.Sprintf("rss-%d", i), Namespace: "bench", Uid: randomHex(8)},
			Linux:    &runtimeapi.LinuxPodSandboxConfig{CgroupParent: f.cgroup}}})
		if err != nil {
			b.Fatal(err)
		}
		pods = append(pods, r.GetPodSandboxId())
	}
	time.Sleep(time.Second)
	loaded := rssMiB(f.Proc.Pid())
	for _, id := range pods {
		f.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id})
	}
	b.ReportMetric(idle, "idle-RSS-MiB")
	b.ReportMetric(loaded, "10-pods-RSS-MiB")
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func rssMiB(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
