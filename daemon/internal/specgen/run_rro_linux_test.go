package specgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// A readonly CRI mount leaves the host's submounts writable; a recursive
// read-only ("rro") one does not. Documents whether this host's runtimes
// support rro (runletd must then set ContainerOptions.RecursiveReadOnly
// and report the handler feature to kubelet).
func TestRecursiveReadOnlyMountUnderRuncAndCrun(t *testing.T) {
	script := `touch /data/sub/x 2>/dev/null && echo sub=rw || echo sub=ro; touch /data/x 2>/dev/null && echo top=rw || echo top=ro`
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			host := t.TempDir()
			sub := filepath.Join(host, "sub")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
			sb := testPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			ro := shellContainer(script, nil)
			ro.Mounts = []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: host, Readonly: true}}
			if out := r.runInPod(ro, sb, pod, nil); out != "sub=rw\ntop=ro\n" {
				t.Fatalf("readonly mount: %q, want only the top read-only", out)
			}
			rro := shellContainer(script, nil)
			rro.Mounts = []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: host, Readonly: true, RecursiveReadOnly: true}}
			out, err := r.tryRunInPod(rro, sb, pod, func(o *ContainerOptions) { o.RecursiveReadOnly = true })
			switch {
			case err != nil && strings.Contains(err.Error(), "rro"):
				t.Skipf("%s does not support rro: %v", binary, err)
			case err != nil:
				t.Fatal(err)
			case out == "sub=rw\ntop=ro\n":
				t.Skipf("%s ignores rro", binary)
			case out != "sub=ro\ntop=ro\n":
				t.Fatalf("rro mount: %q, want all read-only", out)
			}
		})
	}
}
