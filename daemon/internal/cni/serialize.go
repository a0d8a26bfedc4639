package cni

import (
	"context"
	"fmt"
)

// acquire waits until no other ADD or DEL of this Network runs, or ctx
// ends. Plugins run one operation at a time because Debian 12's portmap
// (containernetworking-plugins 1.1.1) races when pods are set up at once:
// two ADDs both find its shared iptables chains missing and the second
// fails creating one ("CHAIN_USER_ADD failed (File exists)" under
// iptables-nft). Holding the slot also makes checking that a pod is not yet
// attached and attaching it one step. Plugin runs take milliseconds and
// iptables serializes most of their work anyway, so little parallelism is
// lost; a hung plugin holds the slot at most for the plugin timeout.
func (n *Network) acquire(ctx context.Context) (release func(), err error) {
	select {
	case n.running <- struct{}{}:
		return func() { <-n.running }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cni: waiting for another pod's network operation: %w", ctx.Err())
	}
}
