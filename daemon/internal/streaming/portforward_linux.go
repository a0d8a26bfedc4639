package streaming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/daemon/internal/netns"
	"github.com/runlet/runlet/daemon/internal/pod"
)

// PortForward connects stream to port on the pod's loopback: inside the
// pod's network namespace, or the host's for a host-network pod. It
// returns when the pod side closes or ctx ends.
func (r *Runtime) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("port %d: %w", port, errdefs.ErrInvalidArgument)
	}
	sb, err := r.Pods.Get(podID)
	if err != nil {
		return err
	}
	if sb.State != pod.Ready {
		return fmt.Errorf("pod %q is not ready: %w", podID, errdefs.ErrFailedPrecondition)
	}
	conn, err := dialPod(ctx, sb.NetNS, port)
	if err != nil {
		return err
	}
	return pipe(ctx, conn, stream)
}

// dialPod dials localhost:port in the namespace pinned at nsPath ("" for
// the host's), IPv4 first, then IPv6.
func dialPod(ctx context.Context, nsPath string, port int32) (conn *net.TCPConn, err error) {
	dial := func() error {
		var d net.Dialer
		var c net.Conn
		for _, host := range []string{"127.0.0.1", "::1"} {
			if c, err = d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port)))); err == nil {
				conn = c.(*net.TCPConn)
				return nil
			}
		}
		return fmt.Errorf("port-forward to port %d: %w", port, err)
	}
	if nsPath == "" {
		err := dial()
		return conn, err
	}
	ns, err := netns.Load(nsPath)
	if err != nil {
		return nil, err
	}
	err = ns.Do(dial)
	return conn, err
}

// pipe copies both ways. The client's end of input half-closes the pod
// side; the pod side's end (or ctx) ends the session.
func pipe(ctx context.Context, conn *net.TCPConn, stream io.ReadWriteCloser) error {
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, stream)
		_ = conn.CloseWrite()
	}()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(stream, conn)
		done <- err
	}()
	select {
	case err := <-done:
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
