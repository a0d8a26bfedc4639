package specgen

import (
	"fmt"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// hostPropagation reports whether the host mount holding p (the deepest
// mount point that is p or a parent of it) is shared or a slave.
func hostPropagation(p string) (shared, slave bool, err error) {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(p))
	if err != nil {
		return false, false, fmt.Errorf("find the mount of %s: %w", p, err)
	}
	var best *mountinfo.Info
	for _, m := range mounts {
		if best == nil || len(m.Mountpoint) >= len(best.Mountpoint) {
			best = m
		}
	}
	if best == nil {
		return false, false, fmt.Errorf("no mount holds %s", p)
	}
	for _, f := range strings.Fields(best.Optional) {
		shared = shared || strings.HasPrefix(f, "shared:")
		slave = slave || strings.HasPrefix(f, "master:")
	}
	return shared, slave, nil
}
