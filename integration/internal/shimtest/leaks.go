package shimtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/runlet/runlet/bundle"
)

// procStat returns the state letter and start time of a process, "" when
// it is gone.
func procStat(pid int) (state, start string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", ""
	}
	// The command may hold spaces and parentheses: fields start after the
	// last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", ""
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return "", ""
	}
	return fields[0], fields[19] // state, starttime (field 22)
}

func procStartTime(pid int) string {
	_, start := procStat(pid)
	return start
}

// processAlive: the pid runs, is not a zombie, and (when start is known)
// is the same process as when first seen.
func processAlive(pid int, start string) bool {
	state, st := procStat(pid)
	if state == "" || state == "Z" || state == "X" {
		return false
	}
	return start == "" || st == start
}

func waitGone(ctx context.Context, pid int, start string) error {
	for processAlive(pid, start) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("process %d still running: %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// trackPid remembers a shim pid for the final leak check.
func (e *Env) trackPid(pid int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pids == nil {
		e.pids = map[int]string{}
	}
	if _, ok := e.pids[pid]; !ok {
		e.pids[pid] = procStartTime(pid)
	}
}

// FdsUnder lists the fds of pid that point at a file under dir.
func FdsUnder(pid int, dir string) []string {
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, ent := range entries {
		target, err := os.Readlink(filepath.Join(fdDir, ent.Name()))
		if err != nil {
			continue
		}
		if strings.HasPrefix(target, dir+"/") {
			out = append(out, ent.Name()+" -> "+target)
		}
	}
	return out
}

// MountsUnder lists the mount points at or below dir.
func MountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CgroupDirs lists the cgroup directories of a cgroups path in every
// hierarchy (v1 controllers, the named systemd hierarchy, the hybrid
// unified mount, or a pure v2 root).
func CgroupDirs(cgroupsPath string) []string {
	var out []string
	cands, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", cgroupsPath))
	cands = append(cands, filepath.Join("/sys/fs/cgroup", cgroupsPath))
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			out = append(out, c)
		}
	}
	return out
}

// CgroupV2 reports a pure cgroup v2 host.
func CgroupV2() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err != nil {
		return false
	}
	return st.Type == 0x63677270 // CGROUP2_SUPER_MAGIC
}

// CgroupFile is the path of a control file of a container's cgroup: in the
// v1 controller's hierarchy, or in the v2 directory on a pure v2 host.
func CgroupFile(cgroupsPath, controller, v1File, v2File string) string {
	if CgroupV2() {
		return filepath.Join("/sys/fs/cgroup", cgroupsPath, v2File)
	}
	return filepath.Join("/sys/fs/cgroup", controller, cgroupsPath, v1File)
}

// RuntimeList lists the container ids in a runtime state root.
func RuntimeList(ctx context.Context, runtime, root string) ([]string, error) {
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, runtime, "--root", root, "list", "--format", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --root %s list: %w", runtime, root, err)
	}
	var states []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &states); err != nil {
		return nil, fmt.Errorf("%s list: %q: %w", runtime, out, err)
	}
	var ids []string
	for _, s := range states {
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// RuntimeDelete force-deletes a container's runtime state.
func RuntimeDelete(ctx context.Context, runtime, root, id string) error {
	out, err := exec.CommandContext(ctx, runtime, "--root", root, "delete", "-f", id).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s delete -f %s: %w: %s", runtime, id, err, out)
	}
	return nil
}

// finalLeakCheck runs after every shim and bundle cleanup: it reports (and
// then removes) whatever the shims left behind.
func (e *Env) finalLeakCheck() {
	t := e.T
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e.mu.Lock()
	pids := e.pids
	containers := append([]string(nil), e.containers...)
	var roots []string
	for r := range e.roots {
		roots = append(roots, r)
	}
	e.mu.Unlock()

	for pid, start := range pids {
		if processAlive(pid, start) {
			t.Errorf("leak: shim process %d still running", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// Any process whose cwd is in our dirs: a shim server we never learned
	// about (cwd = bundle), or a container process (cwd = its rootfs).
	for _, pid := range ProcessesUnder(e.Dir) {
		t.Errorf("leak: process %d (%s) still runs in %s", pid, procCmdline(pid), procCwd(pid))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	ours := map[string]bool{}
	for _, id := range containers {
		ours[id] = true
	}
	runtime := e.Target.Runtime
	if runtime == "" {
		runtime = "runc"
	}
	for _, root := range roots {
		nsRoot := filepath.Join(root, e.Namespace)
		ids, err := RuntimeList(ctx, runtime, nsRoot)
		if err != nil {
			t.Errorf("list runtime state: %v", err)
		}
		for _, id := range ids {
			if !ours[id] {
				continue
			}
			t.Errorf("leak: runtime state of %s left in %s", id, nsRoot)
			if err := RuntimeDelete(ctx, runtime, nsRoot, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if !strings.HasPrefix(root, e.Dir) {
			// A shared default root: drop our namespace dir if it is empty.
			os.Remove(nsRoot)
		}
	}
	for _, id := range containers {
		for _, dir := range CgroupDirs("/" + CgroupParent(e.Namespace) + "/" + id) {
			t.Errorf("leak: cgroup %s left", dir)
			removeCgroup(ctx, dir)
		}
	}
	removeEmptyCgroupParent(e.Namespace)
	if entries, err := os.ReadDir(e.SocketDir); err == nil && len(entries) > 0 {
		for _, ent := range entries {
			t.Errorf("leak: %s left in the socket dir", ent.Name())
		}
	}
	if mounts := MountsUnder(e.Dir); len(mounts) > 0 {
		t.Errorf("leak: mounts left under %s: %v", e.Dir, mounts)
		if err := bundle.UnmountAll(ctx, e.Dir); err != nil {
			t.Errorf("cleanup mounts: %v", err)
		}
	}
}

func procCwd(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	return s
}

func procCmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// ProcessesUnder lists live processes whose cwd is dir or below.
func ProcessesUnder(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd := procCwd(pid)
		if cwd != dir && !strings.HasPrefix(cwd, dir+"/") {
			continue
		}
		if state, _ := procStat(pid); state != "" && state != "Z" && state != "X" {
			out = append(out, pid)
		}
	}
	return out
}

// removeCgroup kills what is left in a leaked cgroup (a container of ours:
// the path is unique to the test) and removes it.
func removeCgroup(ctx context.Context, dir string) {
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		err := syscall.Rmdir(dir)
		if err == nil || os.IsNotExist(err) || ctx.Err() != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeEmptyCgroupParent drops the run's parent cgroup in every
// hierarchy (runtimes create it and leave it); the next check of the run
// makes it again.
func removeEmptyCgroupParent(namespace string) {
	for _, dir := range CgroupDirs("/" + CgroupParent(namespace)) {
		syscall.Rmdir(dir) // fails, harmlessly, if a leaked child is left
	}
}

// zombieChildren lists children of pid that stay zombies: a shim must reap
// what it forks (runtimes, exec'd processes). A child may be a zombie for
// a moment before its reaper runs, so only one that stays is reported.
func zombieChildren(ctx context.Context, pid int) []int {
	var zombies []int
	deadline := time.Now().Add(5 * time.Second)
	for {
		zombies = zombies[:0]
		entries, _ := os.ReadDir("/proc")
		for _, ent := range entries {
			child, err := strconv.Atoi(ent.Name())
			if err != nil {
				continue
			}
			if state, _ := procStat(child); state == "Z" && procPPid(child) == pid {
				zombies = append(zombies, child)
			}
		}
		if len(zombies) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return zombies
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func procPPid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// ShimServers lists the live processes of the shim binary whose cwd is
// under the env's bundles: the serving shims (a `start` exits).
func (e *Env) ShimServers() []int {
	var out []int
	for _, pid := range ProcessesUnder(filepath.Join(e.Dir, "bundles")) {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == e.Target.Shim {
			out = append(out, pid)
		}
	}
	return out
}
