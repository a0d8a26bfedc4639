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

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/integration/internal/cnitest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// cniNetworkName names the tests' CNI network (portmap writes it into the
// comments of the rules that jump to its per-pod chains).
const cniNetworkName = "runlet-critest"

// containerdPassed is how many specs containerd 2.3.1 passes on critest
// v1.37.0; runletd must pass more on each handler.
const containerdPassed = 106

// critestTimeout bounds one critest run.
const critestTimeout = 25 * time.Minute

func TestCritestPassesOnDefaultHandler(t *testing.T) { runCritest(t, "") }

func TestCritestPassesOnCrunHandler(t *testing.T) { runCritest(t, "crun") }

// runCritest runs the whole validation suite on handler and checks the
// report: no failure, only allowed skips, more passes than containerd.
func runCritest(t *testing.T, handler string) {
	daemontest.NeedRoot(t)
	critest := daemontest.Tool(t, "critest")
	if _, err := exec.LookPath("ipcmk"); err != nil {
		t.Fatalf("critest's HostIpc specs run ipcmk (util-linux): %v", err)
	}
	if handler == "crun" {
		bundletest.EnsureHybridCgroupsForCrun(t)
	}
	dir, d := startEnvironment(t, critest)
	report := filepath.Join(dir, "junit.xml")
	out := filepath.Join(dir, "critest.log")
	err := runSuite(t, critest, d, handler, report, out, filepath.Join(dir, "tmp"))
	saveArtifacts(t, handler, report, out, d)
	checkReport(t, report, err, out)
}

// startEnvironment waits to be the only critest run on the machine, then
// starts a registry with critest's images, a CNI network and runletd using
// both, everything under a new short temp dir (returned), and puts the host
// back at cleanup.
func startEnvironment(t *testing.T, critest string) (string, *daemontest.Daemon) {
	t.Helper()
	lockHost(t, critest)
	dir := daemontest.ShortTempDir(t)
	removeNewShm(t)
	cnitest.Network(t, filepath.Join(dir, "net.d"), filepath.Join(dir, "cni-data"), cniNetworkName, "rlc")
	registry := serveImages(t)
	d := startRunletd(t, dir, registry)
	t.Cleanup(func() { daemontest.RemoveAllPods(t, d) })
	return dir, d
}

// startRunletd starts runletd with mirrors sending every registry critest
// pulls from to registry (plain HTTP, never the real hosts) and the CNI
// network of dir/net.d.
func startRunletd(t *testing.T, dir, registry string) *daemontest.Daemon {
	t.Helper()
	var extra strings.Builder
	extra.WriteString("[images]\n")
	for _, host := range []string{"registry.k8s.io", "k8s.gcr.io", "gcr.io"} {
		fmt.Fprintf(&extra, "[images.mirrors.%q]\nendpoints = [\"http://%s\"]\nfallback_to_host = false\n", host, registry)
	}
	fmt.Fprintf(&extra, "[network]\ncni_bin_dirs = [\"/usr/lib/cni\"]\ncni_conf_dir = %q\n", filepath.Join(dir, "net.d"))
	// critest's NRI specs hold a plugin's Synchronize open for 2 s on
	// purpose (containers made meanwhile must not be lost); with
	// containerd's default 2 s request timeout NRI drops that plugin.
	extra.WriteString(daemontest.NRITable(dir, "plugin_request_timeout = \"10s\"\n"))
	var d *daemontest.Daemon
	// Registered first so that it runs after runletd has stopped. Pod ids
	// are in runletd's log (its shims'), container ids in critest's.
	removeLeftCgroups(t, func() string {
		if d == nil {
			return ""
		}
		b, _ := os.ReadFile(filepath.Join(dir, "critest.log"))
		return d.Proc.LogText() + string(b)
	})
	d = daemontest.StartIn(t, dir, extra.String())
	return d
}

// runSuite runs critest on handler against d (its NRI specs as plugins
// on d's NRI socket), writing the JUnit report and its output; critest's
// temporary files go under tmp.
func runSuite(t *testing.T, critest string, d *daemontest.Daemon, handler, report, out, tmp string) error {
	t.Helper()
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-runtime-endpoint", "unix://" + d.Sock, "-image-endpoint", "unix://" + d.Sock,
		"-nri-socket", daemontest.NRISocket(d.Dir),
		"-ginkgo.junit-report", report, "-ginkgo.no-color", "-ginkgo.v",
		"-ginkgo.skip", AllowedSkip, "-ginkgo.timeout", critestTimeout.String(),
		"-test.timeout", "0",
	}
	if handler != "" {
		args = append(args, "-runtime-handler", handler)
	}
	if focus := os.Getenv("RUNLET_CRITEST_FOCUS"); focus != "" {
		args = append(args, "-ginkgo.focus", focus)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), critestTimeout+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, critest, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err = cmd.Run()
	t.Logf("critest (handler %q) ran %v: %v", handler, time.Since(start).Round(time.Second), err)
	return err
}

// checkReport fails the test for every failed spec, every skip that is
// neither allowed nor a host-feature skip, and too few passes.
func checkReport(t *testing.T, report string, runErr error, out string) {
	t.Helper()
	f, err := os.Open(report)
	if err != nil {
		t.Fatalf("critest wrote no report (%v): %v\n%s", runErr, err, tail(out, 8000))
	}
	defer f.Close()
	specs, err := ParseJUnit(f)
	if err != nil {
		t.Fatal(err)
	}
	focused := os.Getenv("RUNLET_CRITEST_FOCUS") != ""
	o := Sort(specs, focused)
	for _, s := range o.Failed {
		t.Errorf("FAILED %s\n    %s\n%s", s.Name, oneLine(s.Message, 1500), indent(s.Detail, 1500))
	}
	for _, s := range o.BadSkips {
		t.Errorf("SKIPPED (not allowed) %s: %s", s.Name, oneLine(s.Message, 500))
	}
	for _, s := range o.AllowedSkips {
		t.Logf("skipped (allowed) %s: %s", s.Name, oneLine(s.Message, 300))
	}
	t.Logf("critest: %d passed, %d failed, %d skipped (%d allowed), %d pending; %d not run (focus, benchmarks)",
		len(o.Passed), len(o.Failed), len(o.AllowedSkips)+len(o.BadSkips), len(o.AllowedSkips), len(o.Pending), len(o.NotRun))
	if !focused && len(o.Passed) <= containerdPassed {
		t.Errorf("%d specs passed; containerd 2.3.1 passes %d", len(o.Passed), containerdPassed)
	}
	if runErr != nil && len(o.Failed) == 0 {
		t.Errorf("critest failed with no failed spec in its report: %v\n%s", runErr, tail(out, 8000))
	}
}

// saveArtifacts copies the report and logs to $RUNLET_CRITEST_ARTIFACTS.
func saveArtifacts(t *testing.T, handler, report, out string, d *daemontest.Daemon) {
	dst := os.Getenv("RUNLET_CRITEST_ARTIFACTS")
	if dst == "" {
		return
	}
	if handler == "" {
		handler = "default"
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Errorf("artifacts: %v", err)
		return
	}
	for name, src := range map[string]string{"junit": report, "critest": out} {
		if b, err := os.ReadFile(src); err == nil {
			os.WriteFile(filepath.Join(dst, fmt.Sprintf("%s-%s%s", name, handler, filepath.Ext(src))), b, 0o644)
		}
	}
	os.WriteFile(filepath.Join(dst, "runletd-"+handler+".log"), []byte(d.Proc.LogText()), 0o644)
}

// tail is the last n bytes of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

func indent(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[:n] + "..."
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
