package images

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle/bundletest"
)

// repoRoot is the module root, found from the test's working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// needRoot skips under -short and when not root: the daemon chowns, mknods
// and sets trusted xattrs while unpacking.
func needRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// tool finds a test tool in $RUNLET_TOOLS (default <repo>/.tools). A missing
// tool fails the test under CI=true and skips it elsewhere.
func tool(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("RUNLET_TOOLS")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), ".tools")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("%s not found in %s: run `make tools`", name, dir)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// runletdBinary is $RUNLET_BIN (the binary, or a directory holding runletd),
// or runletd built once for this test binary.
func runletdBinary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("RUNLET_BIN"); b != "" {
		if st, err := os.Stat(b); err == nil && st.IsDir() {
			b = filepath.Join(b, "runletd")
		}
		return b
	}
	buildOnce.Do(func() {
		removeStaleBuildDirs()
		buildDir = filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", buildDirPrefix, os.Getpid()))
		if buildErr = os.Mkdir(buildDir, 0o700); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "runletd")
		cmd := exec.Command("go", "build", "-o", builtBin, "./daemon/cmd/runletd")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build runletd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// buildDirPrefix names the directory of the test's runletd build; the pid
// that follows lets a later run remove what a crashed (panicked) run left.
const buildDirPrefix = "runletd-images-test-"

func removeStaleBuildDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), buildDirPrefix))
		if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// shortTempDir is a temporary directory with a short path (unix socket paths
// are limited to 107 bytes), removed at cleanup after everything under it is
// unmounted.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("cleanup %s: %v", dir, err)
		}
	})
	return dir
}

// unmountUnder unmounts every mount point below dir, deepest first.
func unmountUnder(t testing.TB, dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", p, err)
		}
	}
}

// process is a child process the test started; cleanup stops it by pid.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func startProcess(t testing.TB, logPath string, name string, args ...string) *process {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends SIGTERM to the process (by pid) and SIGKILL after 10s.
func (p *process) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("pid %d ignored SIGTERM for 10s; killing it", p.cmd.Process.Pid)
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// registry is a real distribution registry on a free loopback port.
type registry struct {
	Host string // 127.0.0.1:PORT
	proc *process
}

// startRegistry starts `registry serve` with storage under a temp dir.
// extraYAML is added to the config (for example an auth section).
func startRegistry(t testing.TB, extraYAML string) *registry {
	t.Helper()
	bin := tool(t, "registry")
	dir := shortTempDir(t)
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s/data
  delete:
    enabled: true
http:
  addr: %s
%s`, dir, host, extraYAML)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, filepath.Join(dir, "registry.log"), bin, "serve", cfgPath)
	waitFor(t, 15*time.Second, "the registry to answer /v2/", func() bool {
		if p.exited() {
			t.Fatalf("registry exited:\n%s", p.logText())
		}
		resp, err := http.Get("http://" + host + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
	})
	return &registry{Host: host, proc: p}
}

// daemon is a running runletd on a temporary configuration.
type daemon struct {
	Dir, Root, Sock, ConfigPath string
	proc                        *process
	conn                        *grpc.ClientConn
	Images                      runtime.ImageServiceClient
	Runtime                     runtime.RuntimeServiceClient
}

// daemonConfig is a configuration with root, state and socket under dir,
// runlet's shims as the runtimes, plus extra TOML (which may open [images]
// and other tables).
func daemonConfig(t testing.TB, dir, extra string) string {
	return fmt.Sprintf(`root = "%[1]s/root"
state = "%[1]s/state"
address = "%[1]s/state/runlet.sock"
log_level = "debug"
default_runtime = "runc"
%[2]s
[runtimes.runc]
shim = %[3]q
[runtimes.crun]
shim = %[4]q
`, dir, extra, bundletest.ShimBinary(t, "runlet-shim-runc-v2"), bundletest.ShimBinary(t, "runlet-shim-crun"))
}

// startDaemon starts runletd on daemonConfig(dir, extra) and connects a CRI client.
func startDaemon(t testing.TB, extra string) *daemon {
	t.Helper()
	dir := shortTempDir(t)
	return startDaemonIn(t, dir, extra)
}

func startDaemonIn(t testing.TB, dir, extra string) *daemon {
	t.Helper()
	d := &daemon{Dir: dir, Root: filepath.Join(dir, "root"), Sock: filepath.Join(dir, "state", "runlet.sock"),
		ConfigPath: filepath.Join(dir, "runlet.toml")}
	if err := os.WriteFile(d.ConfigPath, []byte(daemonConfig(t, dir, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	d.proc = startProcess(t, filepath.Join(dir, fmt.Sprintf("runletd-%d.log", time.Now().UnixNano())),
		runletdBinary(t), "--config", d.ConfigPath)
	conn, err := grpc.NewClient("unix://"+d.Sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d.conn, d.Images, d.Runtime = conn, runtime.NewImageServiceClient(conn), runtime.NewRuntimeServiceClient(conn)
	waitFor(t, 20*time.Second, "runletd to serve CRI", func() bool {
		if d.proc.exited() {
			t.Fatalf("runletd exited:\n%s", d.proc.logText())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := d.Runtime.Version(ctx, &runtime.VersionRequest{})
		return err == nil
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runletd log:\n%s", d.proc.logText())
		}
	})
	return d
}

// stop stops runletd with SIGTERM and waits for it.
func (d *daemon) stop(t testing.TB) { d.proc.stop(t) }

// crictl runs the real crictl against the daemon and returns its combined output.
func (d *daemon) crictl(t testing.TB, args ...string) (string, error) {
	t.Helper()
	base := []string{"--runtime-endpoint", "unix://" + d.Sock, "--image-endpoint", "unix://" + d.Sock,
		"--timeout", "60s", "--config", filepath.Join(d.Dir, "crictl.yaml")}
	if _, err := os.Stat(filepath.Join(d.Dir, "crictl.yaml")); err != nil {
		os.WriteFile(filepath.Join(d.Dir, "crictl.yaml"), []byte(fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\n", d.Sock, d.Sock)), 0o600)
	}
	var out bytes.Buffer
	cmd := exec.Command(tool(t, "crictl"), append(base, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// mustCrictl is crictl that fails the test on error.
func (d *daemon) mustCrictl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.crictl(t, args...)
	if err != nil {
		t.Fatalf("crictl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// layerDirs lists the unpacked layer directories of the daemon's store.
func (d *daemon) layerDirs(t testing.TB) []string {
	return dirNames(t, filepath.Join(d.Root, "images", "layers", "sha256"))
}

// blobs lists the stored content (manifests, configs) of the daemon's store.
func (d *daemon) blobs(t testing.TB) []string {
	return dirNames(t, filepath.Join(d.Root, "images", "content", "sha256"))
}

// tmpEntries lists what in-flight pulls keep in the store's scratch dir.
func (d *daemon) tmpEntries(t testing.TB) []string {
	return dirNames(t, filepath.Join(d.Root, "images", "tmp"))
}

func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
