package reliability

import (
	"strings"
	"testing"
)

// TestTheLeakCheckSeesEveryKindOfLeftoverOfALivePod proves the leak check
// the other tests end with can fail: a pod with a running container is
// reported under every kind (processes, mounts, state files, CNI lease,
// iptables rules, cgroups, store records and names), and once the pod is
// removed nothing is reported.
func TestTheLeakCheckSeesEveryKindOfLeftoverOfALivePod(t *testing.T) {
	f := start(t, withNetwork)
	pod, _, _ := f.run(t, "leakcheck", "runc", "sleep", "100000")
	// No pod id given: a crashed call's pod is known to nobody but runletd.
	report := strings.Join(f.leaks(t), "\n")
	for _, kind := range []string{"process ", "mounts: ", "files under state/root: ", "fifo ", "socket ", "CNI lease ", "iptables -t nat rule: ", "cgroup "} {
		if !strings.Contains(report, kind) {
			t.Errorf("the leak check of a live pod reports no %q:\n%s", kind, report)
		}
	}
	f.Proc.Kill()
	records := strings.Join(f.storeRecords(t), "\n")
	for _, bucket := range []string{"sandboxes/", "sandbox-names/", "containers/", "container-names/"} {
		if !strings.Contains(records, bucket) {
			t.Errorf("the store check of a live pod reports no %q:\n%s", bucket, records)
		}
	}
	f.Restart(t)
	f.removeAll(t)
	f.assertNothingLeft(t, pod)
}
