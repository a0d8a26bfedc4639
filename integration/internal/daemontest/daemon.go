package daemontest

import (
	"bytes"
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
)

// Daemon is a running runletd on a temporary configuration.
type Daemon struct {
	Dir, Root, State, Sock, ConfigPath string
	Proc                               *Process
	// Binary is the runletd Restart runs ("" for Runletd(t)); Env is added
	// to its environment (e.g. failpoint.Env=STEP with a failpoints build).
	Binary  string
	Env     []string
	Images  runtime.ImageServiceClient
	Runtime runtime.RuntimeServiceClient
}

// Config is a configuration with root, state and socket under dir,
// runlet's shims as the runc (default) and crun runtimes, plus extra TOML
// (which may open [images], [network] or more [runtimes.X] tables). NRI
// listens on NRISocket(dir) and runs no plugin of the host's, unless
// extra opens its own [nri] table.
func Config(t testing.TB, dir, extra string) string {
	c := fmt.Sprintf(`root = "%[1]s/root"
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
	if !strings.Contains(extra, "[nri]") {
		c += NRITable(dir, "")
	}
	return c
}

// NRITable is an [nri] table that keeps NRI inside dir (its socket at
// NRISocket(dir), plugin and config directories beside it) plus keys.
func NRITable(dir, keys string) string {
	return fmt.Sprintf("[nri]\nsocket_path = %q\nplugin_path = %q\nplugin_config_path = %q\n%s",
		NRISocket(dir), filepath.Join(dir, "nri", "plugins"), filepath.Join(dir, "nri", "conf.d"), keys)
}

// NRISocket is where the NRI of a runletd on Config(dir) listens.
func NRISocket(dir string) string { return filepath.Join(dir, "nri", "nri.sock") }

// Start starts runletd on Config(dir, extra) in a new short temp dir.
func Start(t testing.TB, extra string) *Daemon {
	t.Helper()
	return StartIn(t, ShortTempDir(t), extra)
}

// StartIn starts runletd with dir as its root's parent and connects.
func StartIn(t testing.TB, dir, extra string) *Daemon {
	t.Helper()
	d := &Daemon{Dir: dir, Root: filepath.Join(dir, "root"), State: filepath.Join(dir, "state"),
		Sock: filepath.Join(dir, "state", "runlet.sock"), ConfigPath: filepath.Join(dir, "runlet.toml")}
	if err := os.WriteFile(d.ConfigPath, []byte(Config(t, dir, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Restart(t)
	return d
}

// Restart starts runletd again on the same configuration (after Stop or
// Proc.Kill) and waits until it serves.
func (d *Daemon) Restart(t testing.TB) {
	t.Helper()
	bin := d.Binary
	if bin == "" {
		bin = Runletd(t)
	}
	d.Proc = StartProcessEnv(t, filepath.Join(d.Dir, fmt.Sprintf("runletd-%d.log", time.Now().UnixNano())),
		d.Env, bin, "--config", d.ConfigPath)
	conn, err := grpc.NewClient("unix://"+d.Sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d.Images, d.Runtime = runtime.NewImageServiceClient(conn), runtime.NewRuntimeServiceClient(conn)
	proc := d.Proc
	WaitFor(t, 20*time.Second, "runletd to serve CRI", func() bool {
		if proc.Exited() {
			t.Fatalf("runletd exited:\n%s", proc.LogText())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := d.Runtime.Version(ctx, &runtime.VersionRequest{})
		return err == nil
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runletd log:\n%s", proc.LogText())
		}
	})
}

// Stop stops runletd with SIGTERM and waits for it.
func (d *Daemon) Stop(t testing.TB) { d.Proc.Stop(t) }

// Crictl runs the real crictl against the daemon and returns its combined
// output.
func (d *Daemon) Crictl(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := d.CrictlCommand(t, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// CrictlCommand is the real crictl against the daemon, not started: for
// callers that feed its stdin or run it in the background.
func (d *Daemon) CrictlCommand(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cfg := filepath.Join(d.Dir, "crictl.yaml")
	if _, err := os.Stat(cfg); err != nil {
		os.WriteFile(cfg, []byte(fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\n", d.Sock, d.Sock)), 0o600)
	}
	base := []string{"--runtime-endpoint", "unix://" + d.Sock, "--image-endpoint", "unix://" + d.Sock,
		"--timeout", "60s", "--config", cfg}
	return exec.Command(Tool(t, "crictl"), append(base, args...)...)
}

// MustCrictl is Crictl that fails the test on error.
func (d *Daemon) MustCrictl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.Crictl(t, args...)
	if err != nil {
		t.Fatalf("crictl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Ctx is a context for one test's calls.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// RemoveAllPods stops and removes whatever pods and containers a test
// left in d, so runletd's own shutdown leaves no shim, mount or netns behind.
func RemoveAllPods(t testing.TB, d *Daemon) {
	if d.Proc.Exited() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctrs, err := d.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{})
	if err != nil {
		t.Errorf("cleanup: list containers: %v", err)
		return
	}
	for _, c := range ctrs.GetContainers() {
		d.Runtime.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: c.GetId(), Timeout: 1})
		if _, err := d.Runtime.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: c.GetId()}); err != nil {
			t.Errorf("cleanup: remove container %s: %v", c.GetId(), err)
		}
	}
	pods, err := d.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		t.Errorf("cleanup: list pods: %v", err)
		return
	}
	for _, p := range pods.GetItems() {
		if _, err := d.Runtime.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: p.GetId()}); err != nil {
			t.Errorf("cleanup: stop pod %s: %v", p.GetId(), err)
		}
		if _, err := d.Runtime.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: p.GetId()}); err != nil {
			t.Errorf("cleanup: remove pod %s: %v", p.GetId(), err)
		}
	}
	if n := len(ctrs.GetContainers()) + len(pods.GetItems()); n > 0 {
		t.Logf("cleanup: removed %d pods and %d containers the test left", len(pods.GetItems()), len(ctrs.GetContainers()))
	}
}
