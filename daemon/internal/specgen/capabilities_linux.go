package specgen

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// availableCapabilities is the bounding set of runletd's own process:
// what "ALL" and privileged mean on this host. Root here may lack some
// (CAP_SYS_RESOURCE), and runc fails to grant a capability its parent
// lacks.
var availableCapabilities = sync.OnceValues(func() ([]string, error) {
	mask, err := boundingSetMask("/proc/self/status")
	if err != nil {
		return nil, err
	}
	var caps []string
	for bit, name := range knownCapabilities {
		if mask&(1<<uint(bit)) != 0 {
			caps = append(caps, name)
		}
	}
	return caps, nil
})

func boundingSetMask(statusPath string) (uint64, error) {
	f, err := os.Open(statusPath)
	if err != nil {
		return 0, fmt.Errorf("read capability bounding set: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapBnd line in %s", statusPath)
}
