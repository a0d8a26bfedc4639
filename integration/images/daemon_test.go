package images

import (
	"github.com/runlet/runlet/bundle/bundletest"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestRunletdRefusesABadConfigNamingFileKeyAndReason(t *testing.T) {
	if testing.Short() {
		t.Skip("builds runletd: skipped with -short")
	}
	dir := shortTempDir(t)
	cfg := filepath.Join(dir, "bad.toml")
	os.WriteFile(cfg, []byte(daemonConfig(t, dir, "[images]\npause_imag = \"x\"\n")), 0o600)
	out, err := exec.Command(runletdBinary(t), "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("runletd started on a config with an unknown key:\n%s", out)
	}
	for _, want := range []string{cfg, "images.pause_imag", "unknown key"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("error output does not name %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "root")); !os.IsNotExist(err) {
		t.Fatal("a refused config still created the root directory")
	}
}

func TestRunletdPrintsAVersionAndADefaultConfigThatLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds runletd: skipped with -short")
	}
	out, err := exec.Command(runletdBinary(t), "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "runletd ") {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	def, err := exec.Command(runletdBinary(t), "config", "default").Output()
	if err != nil || !strings.Contains(string(def), "# ") || !strings.Contains(string(def), "pause_image") {
		t.Fatalf("config default: %v\n%s", err, def)
	}
	// The default, pointed at temp dirs, starts a working daemon; it names
	// the shims by name, so they must be on PATH, as `make` puts bin/.
	runc, crun := bundletest.ShimBinary(t, "runlet-shim-runc-v2"), bundletest.ShimBinary(t, "runlet-shim-crun")
	t.Setenv("PATH", filepath.Dir(runc)+":"+filepath.Dir(crun)+":"+os.Getenv("PATH"))
	dir := shortTempDir(t)
	text := strings.NewReplacer(`"/var/lib/runlet"`, `"`+dir+`/root"`, `"/run/runlet/runlet.sock"`, `"`+dir+`/state/runlet.sock"`,
		`"/run/runlet"`, `"`+dir+`/state"`).Replace(string(def))
	cfg := filepath.Join(dir, "default.toml")
	os.WriteFile(cfg, []byte(text), 0o600)
	p := startProcess(t, filepath.Join(dir, "runletd.log"), runletdBinary(t), "--config", cfg)
	waitFor(t, 20*time.Second, "the socket", func() bool {
		if p.Exited() {
			t.Fatalf("runletd on the default config exited:\n%s", p.LogText())
		}
		_, err := os.Stat(filepath.Join(dir, "state", "runlet.sock"))
		return err == nil
	})
}

func TestRunletdServesAPrivateSocketAndStopsCleanlyOnSIGTERM(t *testing.T) {
	needRoot(t)
	d := startDaemon(t, "")
	for p, want := range map[string]os.FileMode{d.Sock: 0o600, filepath.Dir(d.Sock): 0o700, d.Root: 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", p, st.Mode().Perm(), want)
		}
	}
	d.Proc.Signal(syscall.SIGTERM)
	select {
	case <-d.Proc.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("runletd did not stop within 10s of SIGTERM")
	}
	if code := d.Proc.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, d.Proc.LogText())
	}
	if _, err := os.Stat(d.Sock); !os.IsNotExist(err) {
		t.Fatal("the socket outlived runletd")
	}
	if !strings.Contains(d.Proc.LogText(), `"msg":"shutting down"`) {
		t.Fatalf("no structured shutdown log:\n%s", d.Proc.LogText())
	}
}

func TestEmptyRuntimeRequestsAreInvalid(t *testing.T) {
	needRoot(t)
	d := startDaemon(t, "")
	_, err := d.Runtime.Exec(ctxT(t), &runtime.ExecRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Exec without a container: %v, want InvalidArgument", err)
	}
	_, err = d.Runtime.Attach(ctxT(t), &runtime.AttachRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Attach without a container: %v, want InvalidArgument", err)
	}
	_, err = d.Runtime.PortForward(ctxT(t), &runtime.PortForwardRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("PortForward without a pod: %v, want InvalidArgument", err)
	}
	_, err = d.Runtime.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("CreateContainer without a config: %v, want InvalidArgument", err)
	}
	_, err = d.Runtime.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("RunPodSandbox without metadata: %v, want InvalidArgument", err)
	}
	v, err := d.Runtime.Version(ctxT(t), &runtime.VersionRequest{})
	if err != nil || v.RuntimeName != "runlet" || v.RuntimeApiVersion != "v1" {
		t.Fatalf("Version = %v, %v", v, err)
	}
}

func TestBuiltinPauseIsThereWithoutAnyPull(t *testing.T) {
	needRoot(t)
	d := startDaemon(t, "[images]\npause_image = \"\"\n") // no registry at all
	st := imageStatus(t, d, "localhost/runlet/pause:builtin")
	if !st.Pinned {
		t.Fatal("the built-in pause is not pinned")
	}
	if len(storeLayers(t, d)) != 1 {
		t.Fatalf("layers = %v", storeLayers(t, d))
	}
	entries, err := os.ReadDir(filepath.Join(d.Root, "images", "layers", "sha256", storeLayers(t, d)[0]))
	if err != nil || len(entries) != 1 || entries[0].Name() != "pause" {
		t.Fatalf("built-in pause layer holds %v, %v", entries, err)
	}
	out := d.MustCrictl(t, "images")
	if !strings.Contains(out, "localhost/runlet/pause") {
		t.Fatalf("crictl images does not show the built-in pause:\n%s", out)
	}
	// Removed by hand, it is back at the next start, with the same ID.
	d.MustCrictl(t, "rmi", "localhost/runlet/pause:builtin")
	if len(storeLayers(t, d)) != 0 {
		t.Fatalf("rmi of the built-in pause left layers %v", storeLayers(t, d))
	}
	d.Stop(t)
	d2 := startDaemonIn(t, d.Dir, "[images]\npause_image = \"\"\n")
	if again := imageStatus(t, d2, "localhost/runlet/pause:builtin"); again.Id != st.Id {
		t.Fatalf("built-in pause came back as %s, was %s", again.Id, st.Id)
	}
}

func TestAConfiguredPauseImageIsPinned(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	reg.push(t, "pause:3.9", pauseImage(t))
	d := startDaemon(t, strings.Replace(designMirrors(reg), `pause_image = ""`, `pause_image = "registry.k8s.io/pause:3.9"`, 1))

	d.MustCrictl(t, "pull", "registry.k8s.io/pause:3.9")
	if st := imageStatus(t, d, "registry.k8s.io/pause:3.9"); !st.Pinned {
		t.Fatal("the configured pause image is not pinned")
	}
}
