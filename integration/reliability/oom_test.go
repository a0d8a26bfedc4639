package reliability

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// TestAnOOMKillWhileRunletdIsDownIsReportedAsOOMKilledAfterTheRestart
// stops runletd (SIGTERM), then lets a container with a 16 MiB memory
// limit allocate past it; once the kernel has killed it, runletd starts
// again and reports the container CONTAINER_EXITED with reason OOMKilled.
// On runc and crun.
func TestAnOOMKillWhileRunletdIsDownIsReportedAsOOMKilledAfterTheRestart(t *testing.T) {
	for _, h := range []string{"runc", "crun"} {
		t.Run(h, func(t *testing.T) {
			f := start(t) // one each: a restart belongs to the subtest
			trigger := filepath.Join(f.Dir, "trigger-"+h)
			if err := os.Mkdir(trigger, 0o755); err != nil {
				t.Fatal(err)
			}
			podCfg := f.podConfig(t, "oom-"+h, 0)
			pod := f.runPod(t, podCfg, h)
			cfg := ctrConfig("hog", "sh", "-c", "while [ ! -e /trigger/go ]; do sleep 0.1; done; tail /dev/zero")
			cfg.Mounts = []*runtimeapi.Mount{{ContainerPath: "/trigger", HostPath: trigger, Readonly: true}}
			cfg.Linux = &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{
				MemoryLimitInBytes: 16 << 20, MemorySwapLimitInBytes: 16 << 20}}
			ctr := f.createCtr(t, pod, podCfg, cfg)
			pid := f.startCtr(t, ctr)

			f.Stop(t)
			if !running(pid) {
				t.Fatalf("container pid %d ended with runletd's stop", pid)
			}
			if err := os.WriteFile(filepath.Join(trigger, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			daemontest.WaitFor(t, time.Minute, "the kernel to kill the container past its memory limit", func() bool { return !running(pid) })

			f.Restart(t)
			var st *runtimeapi.ContainerStatus
			daemontest.WaitFor(t, 30*time.Second, "the container to be reported exited", func() bool {
				st, _ = f.ctrStatus(t, ctr)
				return st.State == runtimeapi.ContainerState_CONTAINER_EXITED
			})
			if st.Reason != "OOMKilled" || st.ExitCode != 137 {
				t.Fatalf("%s container OOM-killed while runletd was down: reported %s, reason %q, exit code %d, message %q; want reason OOMKilled, exit code 137",
					h, st.State, st.Reason, st.ExitCode, st.Message)
			}
			f.removeAll(t)
			f.assertNothingLeft(t, pod)
		})
	}
}
