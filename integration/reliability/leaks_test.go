package reliability

import (
	"fmt"
	"github.com/runlet/runlet/integration/internal/cnitest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// stateFiles is every path under the daemon's state and root directories
// (but the store, image content and logs), with its kind: what a pod or
// container leaves is a new entry here (bundles, FIFOs, sockets,
// snapshots, netns pins, layer holds...).
type stateFiles map[string]string

func (f *fixture) stateFiles(t testing.TB) stateFiles {
	files := stateFiles{}
	for _, top := range []string{f.State, f.Root} {
		filepath.Walk(top, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(f.Dir, p)
			switch rel {
			case "root/runlet.db", "root/content", "root/images", "root/layers", "root/blobs":
				if info.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			kind := "file"
			switch m := info.Mode(); {
			case m.IsDir():
				kind = "dir"
			case m&os.ModeNamedPipe != 0:
				kind = "fifo"
			case m&os.ModeSocket != 0:
				kind = "socket"
			case m&os.ModeSymlink != 0:
				kind = "symlink"
			}
			files[rel] = kind
			return nil
		})
	}
	return files
}

// idRE matches an id or hash in a name (pod and container ids, shim
// socket directories).
var idRE = regexp.MustCompile(`[0-9a-f]{12,}`)

// leaks lists what is in now and not in the baseline: any file, FIFO,
// socket or link, and any directory named by an id (a directory per kind,
// such as state/bundles, may appear on first use and stay).
func (s stateFiles) leaks(now stateFiles) []string {
	var out []string
	for p, kind := range now {
		if s[p] == "" && (kind != "dir" || idRE.MatchString(filepath.Base(p))) {
			out = append(out, kind+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

// assertNothingLeft checks, once every pod is removed, that nothing of
// them is left (leaks), then stops runletd and checks that its store
// records no pod, container or name reservation (storeRecords). runletd
// stays stopped. podIDs are the ids of the pods the test made.
func (f *fixture) assertNothingLeft(t *testing.T, podIDs ...string) {
	t.Helper()
	// Processes end asynchronously (a shim exits after its last task).
	var leaks []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		leaks = f.leaks(t, podIDs...)
		if len(leaks) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for i, l := range leaks {
		for id, name := range f.names {
			if strings.Contains(l, id) {
				leaks[i] += " (" + name + ")"
			}
		}
	}
	if len(leaks) != 0 {
		t.Errorf("left behind after every pod was removed:\n  %s", strings.Join(leaks, "\n  "))
	}
	f.Stop(t)
	if left := f.storeRecords(t); len(left) != 0 {
		t.Errorf("the store still records, after every pod was removed:\n  %s", strings.Join(left, "\n  "))
	}
}

// leaks lists what the test's pods left: processes (those the test saw,
// any in the pods' cgroup parent, any but runletd naming the test's
// directory), mounts under the test's directory, files under state and
// root (bundles, FIFOs, sockets, netns pins, snapshots...), CNI leases,
// iptables rules naming a pod or the test's network, cgroups below the
// pods' cgroup parent.
func (f *fixture) leaks(t testing.TB, podIDs ...string) []string {
	leaks := f.processLeaks()
	for sock, what := range f.sockets {
		if _, err := os.Lstat(sock); err == nil {
			leaks = append(leaks, fmt.Sprintf("socket %s (%s)", sock, what))
		}
	}
	if m := daemontest.MountsUnder(f.Dir); len(m) != 0 {
		leaks = append(leaks, fmt.Sprintf("mounts: %v", m))
	}
	if l := f.baseline.leaks(f.stateFiles(t)); len(l) != 0 {
		leaks = append(leaks, fmt.Sprintf("files under state/root: %v", l))
	}
	if f.netName != "" {
		entries, _ := os.ReadDir(filepath.Join(f.leaseDir, f.netName))
		for _, e := range entries {
			if n := e.Name(); n != "lock" && !strings.HasPrefix(n, "last_reserved_ip") {
				leaks = append(leaks, "CNI lease "+n)
			}
		}
		for _, x := range cnitest.Tables {
			out, err := x.Run("-S")
			if err != nil {
				continue // no such binary or table
			}
			for _, line := range strings.Split(out, "\n") {
				hit := strings.Contains(line, f.netName) // portmap's comment: dnat name: \"NET\" id: \"POD\"
				for _, id := range podIDs {
					hit = hit || (id != "" && strings.Contains(line, id))
				}
				if hit {
					leaks = append(leaks, fmt.Sprintf("%s -t %s rule: %s", x.Bin, x.Name, line))
				}
			}
		}
	}
	for _, d := range cgroupDirs(f.cgroup) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.IsDir() {
				leaks = append(leaks, "cgroup "+filepath.Join(d, e.Name()))
			}
		}
	}
	return leaks
}

// processLeaks lists the live processes that belong to the test's pods:
// those it saw (same pid and start time), any in the pods' cgroup parent,
// and any but runletd naming the test's directory (shims).
func (f *fixture) processLeaks() []string {
	var leaks []string
	daemon := 0
	if f.Proc != nil && !f.Proc.Exited() {
		daemon = f.Proc.Pid()
	}
	for pid, p := range f.pids {
		if p.alive(pid) {
			leaks = append(leaks, fmt.Sprintf("process %d (%s): %s", pid, p.what, cmdline(pid)))
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == daemon || f.pids[pid].alive(pid) || !running(pid) {
			continue
		}
		cg, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if strings.Contains(string(cg), f.cgroup+"/") || strings.Contains(cmdline(pid), f.Dir+"/") {
			leaks = append(leaks, fmt.Sprintf("process %d: %s", pid, cmdline(pid)))
		}
	}
	sort.Strings(leaks)
	return leaks
}

// storeRecords lists the pods, containers and name reservations in the
// store of a stopped runletd (opened read-only).
func (f *fixture) storeRecords(t *testing.T) []string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(f.Root, "runlet.db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer db.Close()
	var left []string
	db.View(func(tx *bolt.Tx) error {
		for _, bucket := range []string{"sandboxes", "sandbox-names", "containers", "container-names"} {
			b := tx.Bucket([]byte(bucket))
			if b == nil {
				continue
			}
			b.ForEach(func(k, v []byte) error {
				left = append(left, fmt.Sprintf("%s/%s = %.200s", bucket, k, v))
				return nil
			})
		}
		return nil
	})
	return left
}

// assertNamesFree runs a pod with each name again (attempt 0) and a
// container in it with the same name, then removes them: no name is
// reserved by what is gone.
func (f *fixture) assertNamesFree(t *testing.T, handler string, names ...string) []string {
	t.Helper()
	var ids []string
	for _, name := range names {
		cfg := f.podConfig(t, name, 0)
		resp, err := f.Runtime.RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: handler})
		if err != nil {
			t.Errorf("after every pod was removed, pod name %q cannot be used again: %v", name, err)
			continue
		}
		ids = append(ids, resp.PodSandboxId)
		if _, err := f.Runtime.CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: resp.PodSandboxId,
			Config: ctrConfig(name, "sleep", "1000"), SandboxConfig: cfg}); err != nil {
			t.Errorf("after every container was removed, container name %q cannot be used again: %v", name, err)
		}
	}
	f.removeAll(t)
	return ids
}

// killLeftovers ends, by pid, the processes a failed test left (shims of
// the test's state, processes in its cgroup parent) and removes the shim
// sockets it saw (containerd's shim keeps its own under /run/containerd),
// so that cleanup can unmount and remove. It runs after runletd's stop.
func (f *fixture) killLeftovers() {
	defer func() {
		for sock := range f.sockets {
			os.Remove(sock)
		}
	}()
	for range 3 {
		leaks := f.processLeakPids()
		if len(leaks) == 0 {
			return
		}
		for _, pid := range leaks {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (f *fixture) processLeakPids() []int {
	var pids []int
	for _, l := range f.processLeaks() {
		var pid int
		if _, err := fmt.Sscanf(l, "process %d", &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
