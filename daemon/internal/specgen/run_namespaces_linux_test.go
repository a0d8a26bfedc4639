package specgen

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
)

// startInPod starts cfg detached in the pod and returns its pid.
func (r *runtimeRun) startInPod(cfg *runtimeapi.ContainerConfig, sb *runtimeapi.PodSandboxConfig, pod testPodRun) uint32 {
	r.t.Helper()
	ctr := r.bundleFor(func(b *bundle.Bundle) *specs.Spec {
		s, err := ContainerSpec(cfg, sb, ContainerOptions{ID: b.ID, SandboxID: pod.pause.ID, SandboxPid: pod.pid})
		if err != nil {
			r.t.Fatal(err)
		}
		return s
	})
	r.run(ctr, true)
	return r.pid(ctr.ID)
}

// Pid mode TARGET puts a container in another container's pid namespace
// (kubectl debug --target): it sees that container's process as pid 1.
func TestTargetPidNamespaceUnderRuncAndCrun(t *testing.T) {
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			sb := testPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			target := testContainer(&runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER}})
			target.Command = []string{"sleep", "2000"}
			targetPid := r.startInPod(target, sb, pod)
			debug := shellContainer(`tr '\0' ' ' < /proc/1/cmdline`, &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET, TargetId: "target"},
			})
			out := r.runInPod(debug, sb, pod, func(o *ContainerOptions) { o.TargetPid = targetPid })
			if out != "sleep 2000 " {
				t.Fatalf("pid 1 of the target namespace is %q, want the target's sleep 2000", out)
			}
		})
	}
}

// A host-network pod: the pause container and the container stay in the
// host's network and UTS namespaces; HOSTNAME is the node's.
func TestHostNetworkPodUnderRuncAndCrun(t *testing.T) {
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	node, _ := os.Hostname()
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			sb := testPod()
			sb.Linux.CgroupParent, sb.Hostname = "", ""
			ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}
			sb.Linux.SecurityContext.NamespaceOptions = ns
			pod := r.runPod(sb)
			cfg := shellContainer(`readlink /proc/self/ns/net; hostname; echo $HOSTNAME`, &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: ns})
			want := hostNet + "\n" + node + "\n" + node + "\n"
			if out := r.runInPod(cfg, sb, pod, nil); out != want {
				t.Fatalf("container printed %q, want %q", out, want)
			}
		})
	}
}
