package cni

import "github.com/runlet/runlet/daemon/internal/netns"

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
