package cni

import (
	"context"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func TestWaitForAnotherOperationEndsWithTheCallersContext(t *testing.T) {
	n := newNetwork(t, []string{"/usr/lib/cni"}, t.TempDir())
	release, err := n.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := n.acquire(ctx); !errdefs.IsDeadlineExceeded(err) {
		t.Fatalf("acquire while held = %v, want DeadlineExceeded", err)
	}
	release()
	again, err := n.acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	again()
}
