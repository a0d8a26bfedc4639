package shims

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// idleTrim is how long the shim waits after its last call before it trims.
const idleTrim = 500 * time.Millisecond

// trimmer keeps an idle shim small: a short while after the last call it
// gives freed heap back to the kernel and drops this binary's read-only
// pages (code and constants) from its resident set. Those stay in the page
// cache, shared by every shim, and fault back in on use; so a shim serving
// a quiet pod for days holds its working set, not everything the pod's
// creation touched once.
type trimmer struct {
	mu    sync.Mutex
	timer *time.Timer // guarded by mu
}

// arm (re)starts the idle timer; the serving loop calls it after each call.
func (t *trimmer) arm() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer == nil {
		t.timer = time.AfterFunc(idleTrim, trimResident)
		return
	}
	t.timer.Reset(idleTrim)
}

func trimResident() {
	debug.FreeOSMemory()
	self, err := os.Executable()
	if err != nil {
		return
	}
	dropReadOnlyPages(self)
}

func dropReadOnlyPages(self string) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != self || strings.Contains(fields[1], "w") {
			continue
		}
		start, end, ok := parseRange(fields[0])
		if ok {
			// Addresses from /proc/self/maps, not Go pointers: the raw
			// syscall needs no unsafe conversion.
			_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
		}
	}
}

func parseRange(s string) (uintptr, uintptr, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseUint(a, 16, 64)
	end, err2 := strconv.ParseUint(b, 16, 64)
	return uintptr(start), uintptr(end), err1 == nil && err2 == nil
}
