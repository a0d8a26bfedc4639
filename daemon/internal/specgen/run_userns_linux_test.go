package specgen

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// openToMappedUsers lets a user namespace's mapped root (an unprivileged
// host uid) traverse the test's 0700 directories down to dir.
func openToMappedUsers(t *testing.T, dir string) {
	t.Helper()
	for ; dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// chownRootfs gives the rootfs to the pod's mapped root, as containerd's
// snapshotter remapping does for user namespace pods.
func chownRootfs(t *testing.T, rootfs string, uid, gid int) {
	t.Helper()
	err := filepath.WalkDir(rootfs, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A pod with a user namespace (userns mode POD): the pause container
// creates it with the pod's mappings and the container joins it, its root
// being host uid 100000. Without id-mapped mounts the pod's resolv.conf
// (owned by host root) shows as nobody's, but is readable.
func TestUserNamespacePodRunsUnderRuncAndCrun(t *testing.T) {
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			r.mappedUsers = true
			sb := testPod()
			sb.Linux.CgroupParent = ""
			sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
			pod := r.runPod(sb)
			sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: usernsPod()}}
			out := r.runInPod(shellContainer(`id -u; cat /proc/self/uid_map /proc/self/gid_map; cat /etc/resolv.conf; stat -c %u /etc/resolv.conf`, sc), sb, pod, nil)
			fields := strings.Fields(out)
			want := []string{"0", "0", "100000", "65536", "0", "200000", "65536", "nameserver", "192.0.2.53", "65534"}
			if strings.Join(fields, " ") != strings.Join(want, " ") {
				t.Fatalf("container printed %q, want %q", fields, want)
			}
		})
	}
}

// With id-mapped mounts the pod's files would show as the container
// root's. Documents what this host's runtimes do: runc 1.1 ignores mount
// mappings, crun 1.8.1 fails with EPERM from mount_setattr. Skipped then,
// so a runtime that honours them makes it pass.
func TestIDMappedSandboxFilesUnderRuncAndCrun(t *testing.T) {
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			r.mappedUsers = true
			sb := testPod()
			sb.Linux.CgroupParent = ""
			sb.Linux.SecurityContext.NamespaceOptions.UsernsOptions = usernsPod()
			pod := r.runPod(sb)
			sc := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: usernsPod()}}
			out, err := r.tryRunInPod(shellContainer(`stat -c %u /etc/resolv.conf`, sc), sb, pod, func(o *ContainerOptions) { o.IDMappedMounts = true })
			switch {
			case err != nil && strings.Contains(err.Error(), "mount_setattr"):
				t.Skipf("%s cannot make id-mapped bind mounts here: %v", binary, err)
			case err != nil:
				t.Fatal(err)
			case out == "65534\n":
				t.Skipf("%s ignores mount id mappings", binary)
			case out != "0\n":
				t.Fatalf("resolv.conf owner %q, want 0", out)
			}
		})
	}
}
