package specgen

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// currentHostCgroups probes the host once: cgroup v2 unified mode, and
// whether swap is accounted (memory.memsw.* on v1, memory.swap.max in our
// own cgroup on v2).
var currentHostCgroups = sync.OnceValue(func() hostCgroups {
	var st unix.Statfs_t
	unified := unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	swapFile := "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"
	if unified {
		swapFile = filepath.Join("/sys/fs/cgroup", ownUnifiedCgroup(), "memory.swap.max")
	}
	_, err := os.Stat(swapFile)
	return hostCgroups{unified: unified, swap: err == nil}
})

// ownUnifiedCgroup is the "0::/path" entry of /proc/self/cgroup.
func ownUnifiedCgroup() string {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "/"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	return "/"
}
