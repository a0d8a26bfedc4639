package cni

import (
	"fmt"

	"github.com/runlet/runlet/daemon/internal/netns"
)

// checkPodNetNS makes sure ADD gets a live network namespace: a missing one
// is errdefs.ErrNotFound, anything else errdefs.ErrInvalidArgument.
func checkPodNetNS(pod PodNetwork) error {
	if _, err := netns.Load(pod.NetNSPath); err != nil {
		return fmt.Errorf("cni: pod %s: %w", pod.ID, err)
	}
	return nil
}

// liveNetNS is path when it is still a network namespace, else "": plugins
// handle a missing namespace on DEL but may fail on a stale plain file.
func liveNetNS(path string) string {
	if path == "" {
		return ""
	}
	if _, err := netns.Load(path); err != nil {
		return ""
	}
	return path
}
