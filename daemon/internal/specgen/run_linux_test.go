package specgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
)

// runtimeRun drives one runtime binary with a state root of the test's.
type runtimeRun struct {
	t      *testing.T
	binary string
	root   string
	// mappedUsers opens bundle directories to the uids of a user
	// namespace.
	mappedUsers bool
	// prepareRootfs, when set, adjusts each new bundle's rootfs before
	// its spec is built.
	prepareRootfs func(rootfs string)
}

func newRuntimeRun(t *testing.T, binary string) *runtimeRun {
	t.Helper()
	bundletest.RequireRoot(t)
	if _, err := exec.LookPath(binary); err != nil {
		t.Skipf("%s not installed", binary)
	}
	if binary == "crun" {
		bundletest.EnsureHybridCgroupsForCrun(t)
	}
	return &runtimeRun{t: t, binary: binary, root: t.TempDir()}
}

func (r *runtimeRun) cmd(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, r.binary, append([]string{"--root", r.root}, args...)...)
}

// bundleFor writes spec into a fresh busybox bundle whose id becomes the
// spec's (and its cgroup "/<id>", so nothing outlives the test); the
// container is force-deleted on cleanup, before the bundle and its cgroup
// are.
func (r *runtimeRun) bundleFor(build func(b *bundle.Bundle) *specs.Spec) *bundle.Bundle {
	r.t.Helper()
	b := bundletest.NewBundle(r.t, "true")
	bundletest.RemoveCgroupAtCleanup(r.t, "/"+b.ID) // after the delete
	r.t.Cleanup(func() { r.cmd(context.Background(), "delete", "-f", b.ID).Run() })
	if r.prepareRootfs != nil {
		r.prepareRootfs(b.Rootfs())
	}
	if r.mappedUsers {
		openToMappedUsers(r.t, b.Rootfs())
		chownRootfs(r.t, b.Rootfs(), 100000, 200000)
	}
	spec := build(b)
	spec.Linux.CgroupsPath = "/" + b.ID
	v, err := bundle.RuntimeOCIVersion(context.Background(), r.binary)
	if err != nil {
		r.t.Fatal(err)
	}
	spec.Version = v
	if err := bundle.ClampOOMScoreAdj(spec); err != nil {
		r.t.Fatal(err)
	}
	if err := bundle.WriteSpec(b.Path, spec); err != nil {
		r.t.Fatal(err)
	}
	return b
}

// run runs the bundle to completion and returns its stdout; detached, it
// starts the container and returns at once (its stdio goes to files, which
// the container may keep open).
func (r *runtimeRun) run(b *bundle.Bundle, detach bool) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"run", "--bundle", b.Path, b.ID}
	var stdout, stderr bytes.Buffer
	cmd := r.cmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var errFile *os.File
	if detach {
		cmd = r.cmd(ctx, "run", "-d", "--bundle", b.Path, b.ID)
		errFile = r.outputFile("stderr")
		cmd.Stdout, cmd.Stderr = r.outputFile("stdout"), errFile
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if errFile != nil {
			data, _ := os.ReadFile(errFile.Name())
			stderr.Write(data)
		}
		data, _ := os.ReadFile(b.Config())
		r.t.Fatalf("%s run %s: %v: %s\nstdout %s\nconfig.json %s", r.binary, b.ID, err, stderr.String(), stdout.String(), data)
	}
	return stdout.String()
}

// tryRun runs the bundle to completion and returns its stdout, or the
// runtime's failure with its stderr.
func (r *runtimeRun) tryRun(b *bundle.Bundle) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := r.cmd(ctx, "run", "--bundle", b.Path, b.ID)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s run %s: %w: %s", r.binary, b.ID, err, stderr.String())
	}
	return stdout.String(), nil
}

func (r *runtimeRun) outputFile(name string) *os.File {
	f, err := os.Create(filepath.Join(r.t.TempDir(), name))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { f.Close() })
	return f
}

func (r *runtimeRun) pid(id string) uint32 {
	r.t.Helper()
	out, err := r.cmd(context.Background(), "state", id).Output()
	if err != nil {
		r.t.Fatalf("%s state %s: %v", r.binary, id, err)
	}
	var st struct {
		Pid uint32 `json:"pid"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid == 0 {
		r.t.Fatalf("%s state %s: %q %v", r.binary, id, out, err)
	}
	return st.Pid
}

func podFiles(t *testing.T) (shm, resolv string) {
	dir := t.TempDir()
	shm = filepath.Join(dir, "shm")
	resolv = filepath.Join(dir, "resolv.conf")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return shm, resolv
}

// A pod as kubelet creates it: the pause-like sandbox in its own network,
// pid, IPC and UTS namespaces, and a container joining them with a
// non-root user, the default seccomp profile and the pod's resolv.conf.
func TestSandboxAndContainerSpecsRunUnderRuncAndCrun(t *testing.T) {
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			shm, resolv := podFiles(t)
			sb := &runtimeapi.PodSandboxConfig{
				Metadata: &runtimeapi.PodSandboxMetadata{Name: "pod", Namespace: "default", Uid: "uid-1"},
				Hostname: "specgen-pod",
				Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
					NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_POD},
					Seccomp:          &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
				}},
			}
			pause := r.bundleFor(func(b *bundle.Bundle) *specs.Spec {
				s, err := SandboxSpec(sb, SandboxOptions{ID: b.ID, Args: []string{"sleep", "1000"}, ShmPath: shm, ResolvPath: resolv})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
			r.run(pause, true)
			pid := r.pid(pause.ID)
			waitExeced(t, int(pid), "sleep") // a detached run returns before its init execs
			ctr := r.bundleFor(func(b *bundle.Bundle) *specs.Spec {
				s, err := ContainerSpec(appContainer(), sb, ContainerOptions{
					ID: b.ID, SandboxID: pause.ID, SandboxPid: pid, ResolvPath: resolv, ShmPath: shm,
					UserLookup: LookupInRootfs(b.Rootfs()),
				})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
			out := r.run(ctr, false)
			want := "uid=1000 gid=2000 groups=2000,3000\nsleep 1000 \nspecgen-pod\nnameserver 192.0.2.53\n"
			if out != want {
				t.Fatalf("container printed\n%q\nwant\n%q", out, want)
			}
		})
	}
}

// waitExeced waits until process pid runs the program named prog.
func waitExeced(t *testing.T, pid int, prog string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasPrefix(string(b), prog+"\x00") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still runs %q, not %s", pid, b, prog)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func appContainer() *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image:    &runtimeapi.ImageSpec{Image: "busybox"},
		Command:  []string{"sh", "-c", `id; tr '\0' ' ' < /proc/1/cmdline; echo; hostname; cat /etc/resolv.conf`},
		Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			NamespaceOptions:   &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_POD},
			RunAsUser:          &runtimeapi.Int64Value{Value: 1000},
			RunAsGroup:         &runtimeapi.Int64Value{Value: 2000},
			SupplementalGroups: []int64{3000},
			Seccomp:            &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
		}},
	}
}
