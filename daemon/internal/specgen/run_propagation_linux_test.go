package specgen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// A BIDIRECTIONAL mount (rshared, rootfs rshared) carries a mount the
// privileged container makes back to the host, as CSI node plugins need.
func TestBidirectionalMountPropagatesToTheHostUnderRuncAndCrun(t *testing.T) {
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			host := mountTmpfs(t, unix.MS_SHARED)
			inner := filepath.Join(host, "inner")
			if err := os.Mkdir(inner, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(inner, unix.MNT_DETACH) })
			sb := privilegedPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			cfg := shellContainer(`mount -t tmpfs made-in-container /m/inner && echo mounted`, &runtimeapi.LinuxContainerSecurityContext{Privileged: true})
			cfg.Mounts = []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: host, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}}
			if out := r.runInPod(cfg, sb, pod, nil); out != "mounted\n" {
				t.Fatalf("container printed %q", out)
			}
			mounted, err := mountinfo.Mounted(inner)
			if err != nil || !mounted {
				t.Fatalf("the container's mount did not reach the host at %s: %v %v", inner, mounted, err)
			}
		})
	}
}
