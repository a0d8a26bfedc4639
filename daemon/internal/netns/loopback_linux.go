package netns

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// bringUpLoopback sets lo up in the calling thread's network namespace; the
// kernel then gives it 127.0.0.1/8 and ::1.
func bringUpLoopback() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netns: find loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("netns: set loopback up: %w", err)
	}
	return nil
}
