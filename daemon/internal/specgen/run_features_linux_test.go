package specgen

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
)

// testPodRun is a running pause container and the files it shares.
type testPodRun struct {
	pause       *bundle.Bundle
	pid         uint32
	shm, resolv string
}

// runPod starts a pause-like sandbox for sb under r; it is force-deleted
// on cleanup.
func (r *runtimeRun) runPod(sb *runtimeapi.PodSandboxConfig) testPodRun {
	r.t.Helper()
	shm, resolv := podFiles(r.t)
	pause := r.bundleFor(func(b *bundle.Bundle) *specs.Spec {
		s, err := SandboxSpec(sb, SandboxOptions{ID: b.ID, Args: []string{"sleep", "1000"}, ShmPath: shm, ResolvPath: resolv})
		if err != nil {
			r.t.Fatal(err)
		}
		return s
	})
	r.run(pause, true)
	return testPodRun{pause: pause, pid: r.pid(pause.ID), shm: shm, resolv: resolv}
}

// runInPod runs cfg to completion in the pod and returns its output.
func (r *runtimeRun) runInPod(cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, pod testPodRun, adjust func(*ContainerOptions)) string {
	r.t.Helper()
	out, err := r.tryRunInPod(cfg, sb, pod, adjust)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// tryRunInPod is runInPod returning the runtime's failure.
func (r *runtimeRun) tryRunInPod(cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, pod testPodRun, adjust func(*ContainerOptions)) (string, error) {
	r.t.Helper()
	ctr := r.bundleFor(func(b *bundle.Bundle) *specs.Spec {
		o := ContainerOptions{ID: b.ID, SandboxID: pod.pause.ID, SandboxPid: pod.pid, ShmPath: pod.shm, ResolvPath: pod.resolv, UserLookup: LookupInRootfs(b.Rootfs())}
		if adjust != nil {
			adjust(&o)
		}
		s, err := ContainerSpec(cfg, sb, o)
		if err != nil {
			r.t.Fatal(err)
		}
		return s
	})
	return r.tryRun(ctr)
}

func shellContainer(script string, sc *runtimeapi.LinuxContainerSecurityContext) *runtimeapi.ContainerConfig {
	cfg := testContainer(sc)
	cfg.Command = []string{"sh", "-c", script}
	return cfg
}

// The default container is confined as kubelet expects: RuntimeDefault
// seccomp refuses unshare and mount, the inheritable set is empty, /sys is
// read-only and /proc/kcore masked.
func TestDefaultContainerIsConfinedUnderRuncAndCrun(t *testing.T) {
	script := `grep -E '^(Seccomp|CapInh|CapEff|NoNewPrivs):' /proc/self/status; ` +
		`unshare -n true 2>/dev/null && echo unshare=ok || echo unshare=refused; ` +
		`touch /sys/x 2>/dev/null && echo sys=rw || echo sys=ro; wc -c < /proc/timer_list`
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			sb := testPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			sc := &runtimeapi.LinuxContainerSecurityContext{Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}}
			out := r.runInPod(shellContainer(script, sc), sb, pod, nil)
			want := "CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\nunshare=refused\nsys=ro\n0\n"
			if out != want {
				t.Fatalf("container printed\n%q\nwant\n%q", out, want)
			}
		})
	}
}

// A privileged container in a privileged pod: every capability runletd
// has, no seccomp, writable /sys and the host's devices.
func TestPrivilegedContainerRunsUnderRuncAndCrun(t *testing.T) {
	script := `grep -E '^(Seccomp|CapEff):' /proc/self/status; touch /sys/kernel/x 2>/dev/null; ` +
		`grep ' /sys ' /proc/mounts; test -c /dev/null && test -e /dev/zero && echo devices=host`
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			sb := privilegedPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			out := r.runInPod(shellContainer(script, &runtimeapi.LinuxContainerSecurityContext{Privileged: true}), sb, pod, nil)
			want := fmt.Sprintf("CapEff:\t%016x\nSeccomp:\t0\nsysfs /sys sysfs rw,", capabilityMask(t))
			if !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "\ndevices=host\n") {
				t.Fatalf("privileged container printed\n%q\nwant it to start with\n%q\nand list host devices", out, want)
			}
		})
	}
}

// capabilityMask is runletd's bounding set as a bit mask.
func capabilityMask(t *testing.T) uint64 {
	caps, err := availableCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	var mask uint64
	for _, c := range caps {
		mask |= 1 << uint(slices.Index(knownCapabilities, c))
	}
	return mask
}
