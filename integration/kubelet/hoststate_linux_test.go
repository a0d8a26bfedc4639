package kubelet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlet/runlet/integration/internal/cnitest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// kubeletSysctls are the kernel tunables kubelet sets at start
// (protectKernelDefaults: false).
var kubeletSysctls = []string{
	"/proc/sys/vm/overcommit_memory", "/proc/sys/vm/panic_on_oom",
	"/proc/sys/kernel/panic", "/proc/sys/kernel/panic_on_oops",
	"/proc/sys/kernel/keys/root_maxkeys", "/proc/sys/kernel/keys/root_maxbytes",
}

// kubeletDirs are host directories kubelet writes whatever its
// configuration says (the /var/log/containers symlinks, say).
var kubeletDirs = []string{"/var/log/containers", "/var/log/pods", "/var/lib/kubelet"}

// guardKubeletHostState puts back, at cleanup, what a kubelet whose
// directories are under dir changes on the host beyond them: its kernel
// tunables, its iptables chains, the kubepods cgroups, the host
// directories it made and its symlinks in those that were there. It fails
// when another kubelet's kubepods cgroup is there.
func guardKubeletHostState(t *testing.T, dir string) {
	t.Helper()
	for _, d := range daemontest.CgroupDirs("kubepods") {
		if _, err := os.Stat(d); err == nil {
			t.Fatalf("%s exists: another kubelet runs on this machine", d)
		}
	}
	removeLinksInto(t, "/var/log/containers", dir)
	for _, d := range kubeletDirs {
		if _, err := os.Stat(d); err == nil {
			continue
		}
		t.Cleanup(func() {
			if err := os.RemoveAll(d); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		for _, d := range daemontest.CgroupDirs("kubepods") {
			daemontest.RemoveCgroupTree(t, d)
		}
	})
	var tables []cnitest.Table
	for _, bin := range []string{"iptables", "ip6tables"} {
		for _, name := range []string{"mangle", "nat", "filter"} {
			tables = append(tables, cnitest.Table{Bin: bin, Name: name})
		}
	}
	cnitest.RemoveNewChainsNamed(t, tables, "KUBE-")
	restoreSysctls(t, kubeletSysctls)
}

// restoreSysctls puts paths back to their values now at cleanup.
func restoreSysctls(t *testing.T, paths []string) {
	t.Helper()
	values := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		values[p] = strings.TrimSpace(string(b))
	}
	t.Cleanup(func() {
		for p, v := range values {
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Errorf("cleanup: restore %s=%s: %v", filepath.Base(p), v, err)
			}
		}
	})
}

// removeLinksInto removes, at cleanup, the symlinks in linkDir that point
// below dir (kubelet's /var/log/containers links to its pod logs), which
// a kubelet stopped before its pods went leaves dangling.
func removeLinksInto(t *testing.T, linkDir, dir string) {
	t.Cleanup(func() {
		for _, name := range entries(linkDir) {
			p := filepath.Join(linkDir, name)
			if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, dir+"/") {
				if err := os.Remove(p); err != nil {
					t.Errorf("cleanup: %v", err)
				}
			}
		}
	})
}
