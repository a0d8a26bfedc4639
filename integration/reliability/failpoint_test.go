package reliability

import (
	"context"
	"github.com/runlet/runlet/integration/internal/cnitest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/failpoint"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// failpointHandlers are the handlers the crash matrix runs on: runc in
// make test (the steps are the daemon's, the same for every handler), and
// crun too with RUNLET_RELIABILITY_ALL_HANDLERS=1 (make soak sets it).
func failpointHandlers() []string {
	if os.Getenv("RUNLET_RELIABILITY_ALL_HANDLERS") != "" {
		return []string{"runc", "crun"}
	}
	return []string{"runc"}
}

// TestACrashAtEveryStepLeavesNothingAndTheRetriedCallSucceeds kills
// runletd (a failpoints build) at each named step of the pod and
// container calls, starts it again and retries the same call with the
// same name and attempt, as kubelet does: the retry succeeds and does
// what the call does; then everything is removed and nothing is left,
// and the names can be used again.
func TestACrashAtEveryStepLeavesNothingAndTheRetriedCallSucceeds(t *testing.T) {
	daemontest.NeedRoot(t)
	fpBin := daemontest.RunletdWithFailpoints(t)
	for _, h := range failpointHandlers() {
		for _, step := range failpoint.Steps {
			if strings.HasPrefix(step, "image/") {
				continue // PullImage is tested with the image service
			}
			t.Run(h+"/"+step, func(t *testing.T) { crashAtStep(t, fpBin, h, step) })
		}
	}
}

// crashCall is the call that crashes at a step and is retried.
type crashCall struct {
	name string
	do   func(ctx context.Context) error
}

func crashAtStep(t *testing.T, fpBin, handler, step string) {
	f := start(t, withNetwork)
	name := "fp-" + strings.NewReplacer("/", "-").Replace(step)
	podCfg := f.podConfig(t, name, 0)
	ctrCfg := ctrConfig(name, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
	// An image volume, so that the container/volumes step has a volume
	// (a snapshot and a mount) to leave behind.
	ctrCfg.Mounts = []*runtimeapi.Mount{{ContainerPath: "/image-volume", Readonly: true,
		Image: &runtimeapi.ImageSpec{Image: busybox, UserSpecifiedImage: busybox}}}
	var pod, ctr string
	runPod := crashCall{"RunPodSandbox", func(c context.Context) error {
		resp, err := f.Runtime.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: podCfg, RuntimeHandler: handler})
		if err == nil {
			pod = resp.PodSandboxId
		}
		return err
	}}
	createCtr := crashCall{"CreateContainer", func(c context.Context) error {
		resp, err := f.Runtime.CreateContainer(c, &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: ctrCfg, SandboxConfig: podCfg})
		if err == nil {
			ctr = resp.ContainerId
		}
		return err
	}}
	startCtr := crashCall{"StartContainer", func(c context.Context) error {
		_, err := f.Runtime.StartContainer(c, &runtimeapi.StartContainerRequest{ContainerId: ctr})
		return err
	}}
	stopCtr := crashCall{"StopContainer", func(c context.Context) error {
		_, err := f.Runtime.StopContainer(c, &runtimeapi.StopContainerRequest{ContainerId: ctr, Timeout: 10})
		return err
	}}
	removeCtr := crashCall{"RemoveContainer", func(c context.Context) error {
		_, err := f.Runtime.RemoveContainer(c, &runtimeapi.RemoveContainerRequest{ContainerId: ctr})
		return err
	}}
	stopPod := crashCall{"StopPodSandbox", func(c context.Context) error {
		_, err := f.Runtime.StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod})
		return err
	}}
	removePod := crashCall{"RemovePodSandbox", func(c context.Context) error {
		_, err := f.Runtime.RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod})
		return err
	}}
	mustDo := func(c crashCall) {
		t.Helper()
		cctx, cancel := callCtx(t)
		defer cancel()
		if err := c.do(cctx); err != nil {
			t.Fatalf("setup: %s: %v", c.name, err)
		}
	}

	// Make the state the call needs, with the normal build.
	var call crashCall
	switch step {
	case failpoint.PodReserved, failpoint.PodFiles, failpoint.PodNetNS, failpoint.PodCNI, failpoint.PodBundle,
		failpoint.PodSnapshot, failpoint.PodShim, failpoint.PodTaskCreated, failpoint.PodTaskStarted:
		call = runPod
	case failpoint.CtrReserved, failpoint.CtrSnapshot, failpoint.CtrVolumes, failpoint.CtrStdio, failpoint.CtrBundle,
		failpoint.CtrTaskCreated:
		mustDo(runPod)
		call = createCtr
	case failpoint.CtrTaskStarted:
		mustDo(runPod)
		mustDo(createCtr)
		call = startCtr
	case failpoint.CtrKilled:
		mustDo(runPod)
		mustDo(createCtr)
		mustDo(startCtr)
		call = stopCtr
	case failpoint.CtrTaskDeleted, failpoint.CtrFilesRemoved:
		mustDo(runPod)
		mustDo(createCtr)
		mustDo(startCtr)
		mustDo(stopCtr)
		call = removeCtr
	case failpoint.PodStopContainers, failpoint.PodStopTask, failpoint.PodStopNetwork:
		mustDo(runPod)
		mustDo(createCtr)
		mustDo(startCtr)
		call = stopPod
	case failpoint.PodRemoveCtrs, failpoint.PodRemoveFiles:
		mustDo(runPod)
		mustDo(createCtr)
		mustDo(startCtr)
		mustDo(stopPod)
		call = removePod
	default:
		t.Fatalf("step %s has no call in this test: add it", step)
	}
	if pod != "" {
		f.podInfo(t, pod)
	}
	if ctr != "" {
		f.ctrStatus(t, ctr)
	}

	// The call on the failpoints build: runletd dies at the step.
	f.Proc.Kill()
	f.Binary, f.Env = fpBin, []string{failpoint.Env + "=" + step}
	f.Restart(t)
	crashed := f.Proc
	cctx, cancel := callCtx(t)
	err := call.do(cctx)
	cancel()
	if codeOf(err) != codes.Unavailable {
		t.Fatalf("%s on a runletd armed to crash at %s: %v (code %s), want Unavailable as the daemon dies there (does the call reach failpoint.Hit(%q)?)", call.name, step, err, codeOf(err), step)
	}
	select {
	case <-crashed.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("%s failed with %v but runletd did not exit", call.name, err)
	}
	if !strings.Contains(crashed.LogText(), "failpoint "+step) {
		t.Fatalf("runletd exited during %s but not at failpoint %s; its log:\n%s", call.name, step, crashed.LogText())
	}

	// The retry on the normal build succeeds and does what the call does.
	f.Binary, f.Env = "", nil
	f.Restart(t)
	cctx, cancel = callCtx(t)
	err = call.do(cctx)
	cancel()
	if err != nil {
		t.Fatalf("%s retried after a crash at %s: %v (code %s), want success", call.name, step, err, codeOf(err))
	}
	switch call.name {
	case "RunPodSandbox":
		st, info := f.podInfo(t, pod)
		if st.State != runtimeapi.PodSandboxState_SANDBOX_READY || !running(info.Pid) {
			t.Fatalf("pod %s after the retried RunPodSandbox: %s, pause pid %d running %v", pod, st.State, info.Pid, running(info.Pid))
		}
		f.assertOnePodNamed(t, name)
		f.assertPodNetwork(t, pod, st)
	case "CreateContainer":
		st, _ := f.ctrStatus(t, ctr)
		if st.State != runtimeapi.ContainerState_CONTAINER_CREATED {
			t.Fatalf("container %s after the retried CreateContainer: %s, want CONTAINER_CREATED", ctr, st.State)
		}
		f.assertOneContainerNamed(t, pod, name)
		f.startCtr(t, ctr)
	case "StartContainer":
		st, pid := f.ctrStatus(t, ctr)
		if st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || !running(pid) {
			t.Fatalf("container %s after the retried StartContainer: %s, pid %d running %v", ctr, st.State, pid, running(pid))
		}
	case "StopContainer":
		st, _ := f.ctrStatus(t, ctr)
		if st.State != runtimeapi.ContainerState_CONTAINER_EXITED {
			t.Fatalf("container %s after the retried StopContainer: %s, want CONTAINER_EXITED", ctr, st.State)
		}
	case "RemoveContainer":
		if len(f.containers(t)) != 0 {
			t.Fatalf("containers listed after the retried RemoveContainer: %v", f.containers(t))
		}
	case "StopPodSandbox":
		st, _ := f.podInfo(t, pod)
		cst, _ := f.ctrStatus(t, ctr)
		if st.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY || cst.State != runtimeapi.ContainerState_CONTAINER_EXITED {
			t.Fatalf("after the retried StopPodSandbox: pod %s, container %s; want SANDBOX_NOTREADY, CONTAINER_EXITED", st.State, cst.State)
		}
	case "RemovePodSandbox":
		if p, c := f.pods(t), f.containers(t); len(p)+len(c) != 0 {
			t.Fatalf("after the retried RemovePodSandbox: %d pods and %d containers listed", len(p), len(c))
		}
	}

	// Remove everything: nothing is left, and the names are free again.
	ids := []string{pod}
	for _, p := range f.pods(t) {
		ids = append(ids, p.Id)
	}
	f.removeAll(t)
	ids = append(ids, f.assertNamesFree(t, handler, name)...)
	f.assertNothingLeft(t, ids...)
}

// assertOnePodNamed fails unless exactly one pod has the name.
func (f *fixture) assertOnePodNamed(t *testing.T, name string) {
	t.Helper()
	var ids []string
	for _, p := range f.pods(t) {
		if p.Metadata.Name == name {
			ids = append(ids, p.Id+"("+p.State.String()+")")
		}
	}
	if len(ids) != 1 {
		t.Fatalf("pods named %s: %v, want exactly one", name, ids)
	}
}

// assertOneContainerNamed fails unless exactly one container of the pod
// has the name.
func (f *fixture) assertOneContainerNamed(t *testing.T, pod, name string) {
	t.Helper()
	var ids []string
	for _, c := range f.containers(t) {
		if c.PodSandboxId == pod && c.Metadata.Name == name {
			ids = append(ids, c.Id+"("+c.State.String()+")")
		}
	}
	if len(ids) != 1 {
		t.Fatalf("containers named %s: %v, want exactly one", name, ids)
	}
}

// assertPodNetwork fails unless a Ready pod is on the fixture's CNI
// network: an address from it, host-local's lease of that address, and
// portmap's rule for its host port naming the pod.
func (f *fixture) assertPodNetwork(t *testing.T, pod string, st *runtimeapi.PodSandboxStatus) {
	t.Helper()
	ip := st.GetNetwork().GetIp()
	if ip == "" {
		t.Fatalf("pod %s has no address on the CNI network", pod)
	}
	if _, err := os.Stat(filepath.Join(f.leaseDir, f.netName, ip)); err != nil {
		t.Fatalf("pod %s has address %s but host-local holds no lease for it: %v", pod, ip, err)
	}
	out, err := cnitest.Table{Bin: "iptables", Name: "nat"}.Run("-S")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, pod) {
		t.Fatalf("no iptables nat rule names pod %s (its host port mapping)", pod)
	}
}
