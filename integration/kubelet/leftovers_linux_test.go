package kubelet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// assertNodeEmpty checks, once kubelet has removed every pod from runletd,
// that nothing of them is left: no mount, shim or CNI lease of runletd's,
// no pod cgroup under kubepods, no pod log directory.
func (c *cluster) assertNodeEmpty(t *testing.T) {
	t.Helper()
	d := c.runletd
	for _, dir := range []string{d.Root, d.State} {
		if m := daemontest.MountsUnder(dir); len(m) > 0 {
			t.Errorf("mounts left under %s: %v", dir, m)
		}
	}
	if pids := processesMentioning(d.State); len(pids) > 0 {
		t.Errorf("processes of runletd's state left (shims?): %v", pids)
	}
	if leases := cniLeases(t, filepath.Join(c.dir, "cni-data", "runlet-kube")); len(leases) > 0 {
		t.Errorf("CNI addresses still leased: %v", leases)
	}
	c.waitFor(t, 2*time.Minute, "kubelet to remove the pod cgroups and pod log directories", func() bool {
		return len(podCgroups()) == 0 && len(entries(filepath.Join(c.dir, "pod-logs"))) == 0
	})
}

// processesMentioning lists the pids whose command line holds s.
func processesMentioning(s string) []string {
	var pids []string
	for _, e := range entries("/proc") {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e, "cmdline"))
		if err == nil && strings.Contains(string(cmdline), s) {
			pids = append(pids, e+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return pids
}

// cniLeases lists host-local's address files in dir.
func cniLeases(t *testing.T, dir string) []string {
	t.Helper()
	var leases []string
	for _, e := range entries(dir) {
		if e != "lock" && !strings.HasPrefix(e, "last_reserved_ip") {
			leases = append(leases, e)
		}
	}
	return leases
}

// podCgroups lists the pod cgroups under kubepods in every hierarchy.
func podCgroups() []string {
	var left []string
	for _, root := range daemontest.CgroupDirs("kubepods") {
		for _, qos := range []string{root, filepath.Join(root, "besteffort"), filepath.Join(root, "burstable")} {
			for _, e := range entries(qos) {
				if strings.HasPrefix(e, "pod") {
					left = append(left, filepath.Join(qos, e))
				}
			}
		}
	}
	return left
}

// entries lists the names in dir (none if it cannot be read).
func entries(dir string) []string {
	des, _ := os.ReadDir(dir)
	names := make([]string, 0, len(des))
	for _, e := range des {
		names = append(names, e.Name())
	}
	return names
}

// saveLogs keeps the components' logs in $RUNLET_KUBE_ARTIFACTS when set,
// and shows the last lines of kubelet's log (else kube-apiserver's) when
// the test failed.
func (c *cluster) saveLogs(t *testing.T) {
	switch {
	case !t.Failed():
	case c.kubelet != nil:
		t.Logf("kubelet's log ends:\n%s", tailOf(c.kubelet.LogText(), 6000))
	case c.apiserver != nil:
		t.Logf("kube-apiserver's log ends:\n%s", tailOf(c.apiserver.LogText(), 6000))
	}
	dst := os.Getenv("RUNLET_KUBE_ARTIFACTS")
	if dst == "" {
		return
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Errorf("artifacts: %v", err)
		return
	}
	for _, name := range []string{"kubelet.log", "kube-apiserver.log", "etcd.log"} {
		if b, err := os.ReadFile(filepath.Join(c.dir, name)); err == nil {
			os.WriteFile(filepath.Join(dst, name), b, 0o644)
		}
	}
	if c.runletd != nil {
		os.WriteFile(filepath.Join(dst, "runletd.log"), []byte(c.runletd.Proc.LogText()), 0o644)
	}
}
