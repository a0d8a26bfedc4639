package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// busyLoop keeps one CPU busy.
const busyLoop = "while :; do :; done"

// withBridgeNetwork gives the fixture's next pods an eth0 on a CNI bridge
// of the test's own (removed at cleanup).
func (f *fixture) withBridgeNetwork(t *testing.T) {
	t.Helper()
	bridge := "rlm" + randomHex(3)
	subnet := "10.89." + fmt.Sprint(100+int(randomHex(1)[0])%100) + ".0/24"
	t.Cleanup(func() { exec.Command("ip", "link", "delete", bridge).Run() })
	keepHostState(t, "/proc/sys/net/ipv4/ip_forward", "/var/lib/cni")
	if err := os.MkdirAll(filepath.Join(f.Dir, "net.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := bridgeConf(bridge, subnet, t.TempDir())
	if err := os.WriteFile(filepath.Join(f.Dir, "net.d", "10-it.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runLimited starts script in a new pod with a CPU quota of half a CPU
// and a 64 MiB memory limit; it returns the pod and container ids.
func (f *fixture) runLimited(t *testing.T, name, handler, script string) (pod, ctr string) {
	t.Helper()
	pod = f.runp(t, name, handler)
	cfg := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": busybox},
		"command":  []string{"sh", "-c", script},
		"log_path": name + ".log",
		"linux": map[string]any{"resources": map[string]any{
			"cpu_period": 100000, "cpu_quota": 50000, "cpu_shares": 512, "memory_limit_in_bytes": 64 << 20}},
	}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(f.Dir, name+"-ctr.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctr = strings.TrimSpace(f.MustCrictl(t, "create", pod, p, filepath.Join(f.Dir, name+"-pod.json")))
	f.MustCrictl(t, "start", ctr)
	return pod, ctr
}

// podMetrics is one pod's metrics by name, each sample's labels keyed.
type podMetrics map[string][]map[string]string

func (f *fixture) podMetrics(t *testing.T, pod string, descs map[string][]string) podMetrics {
	t.Helper()
	resp, err := f.Runtime.ListPodSandboxMetrics(daemontest.Ctx(t), &runtimeapi.ListPodSandboxMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := podMetrics{}
	add := func(ms []*runtimeapi.Metric) {
		for _, m := range ms {
			keys, ok := descs[m.GetName()]
			if !ok || len(keys) != len(m.GetLabelValues()) {
				t.Fatalf("metric %s with labels %v does not match its descriptor's keys %v", m.GetName(), m.GetLabelValues(), keys)
			}
			labels := map[string]string{"value": fmt.Sprint(m.GetValue().GetValue())}
			for i, k := range keys {
				labels[k] = m.GetLabelValues()[i]
			}
			out[m.GetName()] = append(out[m.GetName()], labels)
		}
	}
	for _, p := range resp.GetPodMetrics() {
		if p.GetPodSandboxId() != pod {
			continue
		}
		add(p.GetMetrics())
		for _, c := range p.GetContainerMetrics() {
			add(c.GetMetrics())
		}
	}
	return out
}

// value is the sample of name whose labels include match; -1 when absent.
func (m podMetrics) value(name string, match map[string]string) int64 {
	for _, s := range m[name] {
		ok := true
		for k, v := range match {
			ok = ok && s[k] == v
		}
		if ok {
			var n int64
			fmt.Sscan(s["value"], &n)
			return n
		}
	}
	return -1
}

func descriptors(t *testing.T, f *fixture) map[string][]string {
	t.Helper()
	resp, err := f.Runtime.ListMetricDescriptors(daemontest.Ctx(t), &runtimeapi.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	descs := map[string][]string{}
	for _, d := range resp.GetDescriptors() {
		descs[d.GetName()] = d.GetLabelKeys()
	}
	return descs
}

// mayBeAbsent are descriptors this host cannot fill: pressure needs
// cgroup v2, block I/O a device the writes reached, huge pages a cgroup
// in the hugetlb hierarchy.
func mayBeAbsent(name string) bool {
	for _, p := range []string{"container_pressure_", "container_blkio_", "container_fs_reads", "container_fs_writes", "container_hugetlb_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func TestPodSandboxMetricsCoverEveryDescriptorOnEveryHandler(t *testing.T) {
	f := startWithBusybox(t)
	f.withBridgeNetwork(t)
	descs := descriptors(t, f)
	if len(descs) < 50 {
		t.Fatalf("%d descriptors", len(descs))
	}
	for i, h := range f.handlers {
		name := []string{"mrunc", "mcrun", "mctrd"}[i]
		pod, ctr := f.runLimited(t, name, h, busyLoop)
		ctrLabels := map[string]string{"id": ctr, "container": name, "pod": name, "namespace": "it", "image": busybox}
		var m podMetrics
		daemontest.WaitFor(t, 60*time.Second, name+": a whole CPU second counted", func() bool {
			m = f.podMetrics(t, pod, descs)
			return m.value("container_cpu_usage_seconds_total", map[string]string{"id": ctr, "cpu": "total"}) >= 1
		})
		for d := range descs {
			if len(m[d]) == 0 && !mayBeAbsent(d) {
				t.Errorf("%s: no %s", h, d)
			}
		}
		for metric, min := range map[string]int64{"container_memory_working_set_bytes": 1, "container_memory_usage_bytes": 1,
			"container_threads": 1, "container_processes": 1, "container_file_descriptors": 1, "container_fs_usage_bytes": 0,
			"container_fs_limit_bytes": 1, "container_cpu_cfs_periods_total": 1, "container_start_time_seconds": 1} {
			if v := m.value(metric, ctrLabels); v < min {
				t.Errorf("%s: container %s = %d, want >= %d", h, metric, v, min)
			}
		}
		for metric, want := range map[string]int64{"container_spec_cpu_quota": 50000, "container_spec_cpu_period": 100000,
			"container_spec_cpu_shares": 512, "container_spec_memory_limit_bytes": 64 << 20} {
			if v := m.value(metric, ctrLabels); v != want {
				t.Errorf("%s: container %s = %d, want %d", h, metric, v, want)
			}
		}
		sandbox := map[string]string{"id": pod, "container": "POD", "pod": name, "namespace": "it"}
		for _, metric := range []string{"container_threads", "container_processes", "container_memory_working_set_bytes"} {
			if v := m.value(metric, sandbox); v < 1 {
				t.Errorf("%s: sandbox %s = %d, want >= 1", h, metric, v)
			}
		}
		if v := m.value("container_network_receive_bytes_total", map[string]string{"id": pod, "interface": "eth0"}); v < 0 {
			t.Errorf("%s: no network metrics of the pod's eth0: %v", h, m["container_network_receive_bytes_total"])
		}
		if v := m.value("container_network_receive_bytes_total", map[string]string{"interface": "lo"}); v >= 0 {
			t.Errorf("%s: loopback reported", h)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestCrictlShowsMetricDescriptorsAndPodMetrics(t *testing.T) {
	f := startWithBusybox(t)
	pod, ctr := f.run(t, "mcli", "", "sleep 1000")
	out := f.MustCrictl(t, "metricdescs")
	if !strings.Contains(out, "container_threads") || !strings.Contains(out, "container_cpu_usage_seconds_total") {
		t.Fatalf("metricdescs:\n%s", out)
	}
	out = f.MustCrictl(t, "metricsp")
	if !strings.Contains(out, pod) || !strings.Contains(out, ctr) || !strings.Contains(out, "container_threads") {
		t.Fatalf("metricsp does not show the pod, its container and their threads:\n%s", out)
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}
