package critest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// lockHost makes this test the only critest run on the machine until its
// cleanup, waiting for any other (another test binary's too): runs share
// host ports 12000-12003 and the host's IPC namespace, whose new segments
// each run removes. The lock is an flock on the critest binary itself, so
// no file is left behind.
func lockHost(t *testing.T, critest string) {
	t.Helper()
	f, err := os.Open(critest)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Logf("another critest run holds %s; waiting for it", critest)
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}

// shmSegment is one System V shared memory segment of the host.
type shmSegment struct{ id, nattch int }

// shmSegments lists the segments of the test's IPC namespace.
func shmSegments(t *testing.T) map[int]shmSegment {
	t.Helper()
	f, err := os.Open("/proc/sysvipc/shm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	segs := map[int]shmSegment{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// key shmid perms size cpid lpid nattch ...
		fld := strings.Fields(sc.Text())
		if len(fld) < 7 {
			continue
		}
		id, err1 := strconv.Atoi(fld[1])
		n, err2 := strconv.Atoi(fld[6])
		if err1 == nil && err2 == nil {
			segs[id] = shmSegment{id: id, nattch: n}
		}
	}
	return segs
}

// removeNewShm removes, at cleanup, the shared memory segments that appear
// during the test and nothing holds: critest's HostIpc specs make one on
// the host with ipcmk and never remove it.
func removeNewShm(t *testing.T) {
	t.Helper()
	before := shmSegments(t)
	t.Cleanup(func() {
		for id, s := range shmSegments(t) {
			if _, old := before[id]; old || s.nattch != 0 {
				continue
			}
			if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
				t.Errorf("cleanup: remove shared memory segment %d: %v", id, err)
			}
		}
	})
}

// idPattern matches the 64-hex ids runletd gives pods and containers.
var idPattern = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// removeLeftCgroups removes, at cleanup, the cgroups runletd's pods and
// containers left (critest's pods use no cgroup parent, so runletd puts
// them at /runlet/<id>): those named by an id in logText (runletd's and
// critest's output) that are still there and empty, in every hierarchy, and /runlet itself when the test
// made it and it is empty.
func removeLeftCgroups(t *testing.T, logText func() string) {
	t.Helper()
	parents := daemontest.CgroupDirs("runlet")
	existed := map[string]bool{}
	for _, p := range parents {
		if _, err := os.Stat(p); err == nil {
			existed[p] = true
		}
	}
	t.Cleanup(func() {
		ids := map[string]bool{}
		for _, id := range idPattern.FindAllString(logText(), -1) {
			ids[id] = true
		}
		for _, parent := range parents {
			for id := range ids {
				daemontest.RemoveCgroupTree(t, filepath.Join(parent, id))
			}
			if !existed[parent] {
				os.Remove(parent) // only when empty
			}
		}
	})
}
