package reliability

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// shimDeathBound is the bound: within 10 s of a shim's death its
// containers are reported exited and their processes are gone.
const shimDeathBound = 10 * time.Second

// TestAPodWhoseShimIsKilledHasItsContainersExitedWithShimDied kills -9
// the shim of a pod with two running containers, on every handler: within
// 10 s every container is CONTAINER_EXITED with reason ShimDied and a
// message, its process is gone (runletd ran the shim's delete), the pod
// is SANDBOX_NOTREADY; removing the pod then leaves nothing.
func TestAPodWhoseShimIsKilledHasItsContainersExitedWithShimDied(t *testing.T) {
	f := start(t)
	var ids []string
	for _, h := range f.handlers {
		t.Run(h, func(t *testing.T) {
			podCfg := f.podConfig(t, "shimdeath-"+h, 0)
			pod := f.runPod(t, podCfg, h)
			ids = append(ids, pod)
			ctrs := map[string]int{}
			for i := range 2 {
				c := f.createCtr(t, pod, podCfg, ctrConfig(fmt.Sprintf("c%d", i), "sleep", "100000"))
				ctrs[c] = f.startCtr(t, c)
			}
			_, info := f.podInfo(t, pod)
			shim := parentPid(info.Pid)
			if shim <= 1 || !strings.Contains(cmdline(shim), "shim") {
				t.Fatalf("the parent of pause %d is %d (%q), not a shim", info.Pid, shim, cmdline(shim))
			}
			for _, pid := range ctrs {
				if parentPid(pid) != shim {
					t.Fatalf("container pid %d's parent is %d, not the pod's shim %d: the pod has more than one shim", pid, parentPid(pid), shim)
				}
			}

			if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			var report []string
			for deadline := killed.Add(shimDeathBound); ; {
				report = report[:0]
				st, _ := f.podInfo(t, pod)
				if st.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
					report = append(report, "pod "+st.State.String())
				}
				if running(info.Pid) {
					report = append(report, fmt.Sprintf("pause pid %d running", info.Pid))
				}
				for c, pid := range ctrs {
					cs, _ := f.ctrStatus(t, c)
					if cs.State != runtimeapi.ContainerState_CONTAINER_EXITED || cs.Reason != "ShimDied" || cs.Message == "" {
						report = append(report, fmt.Sprintf("container %s %s reason %q message %q", c, cs.State, cs.Reason, cs.Message))
					}
					if running(pid) {
						report = append(report, fmt.Sprintf("container pid %d running", pid))
					}
				}
				if len(report) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(report) != 0 {
				t.Fatalf("%v after kill -9 of the %s shim (pid %d), want the pod SANDBOX_NOTREADY, every container CONTAINER_EXITED with reason ShimDied and a message, and their processes gone; still:\n  %s",
					shimDeathBound, h, shim, strings.Join(report, "\n  "))
			}
			t.Logf("%s: shim death reported in %v", h, time.Since(killed).Round(time.Millisecond))
			f.MustCrictl(t, "rmp", "-f", pod)
		})
	}
	f.removeAll(t)
	f.assertNothingLeft(t, ids...)
}
