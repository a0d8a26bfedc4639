package runtime

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// A writer of the pod's log directory (a container with it as a volume)
// swaps the container's log directory for a symlink out of it after
// runletd checked the path: no later open of the log may follow it.
func TestALogDirectorySwappedForASymlinkRedirectsNeitherReopenNorAttach(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"lrunc", "lcrun", "lctrd"}[i]
		pod := f.runp(t, name, h)
		cfg := f.containerConfigWith(t, name, map[string]any{"command": []string{"sh", "-c", "echo first; exec sleep 1000"},
			"log_path": "ctr/0.log"})
		ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, cfg, filepath.Join(f.Dir, name+"-pod.json")))
		f.MustCrictl(t, "start", ctr)
		f.waitLogs(t, ctr, "first")

		logDir := filepath.Join(f.Dir, "logs", name)
		outside := filepath.Join(f.Dir, name+"-outside")
		mkdir(t, outside)
		if err := os.Rename(filepath.Join(logDir, "ctr"), filepath.Join(logDir, "ctr.rotated")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(logDir, "ctr")); err != nil {
			t.Fatal(err)
		}
		_, err := f.Runtime.ReopenContainerLog(daemontest.Ctx(t), &runtimeapi.ReopenContainerLogRequest{ContainerId: ctr})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("%s: ReopenContainerLog through a symlink: %v, want InvalidArgument", h, err)
		}
		if _, err := os.Lstat(filepath.Join(outside, "0.log")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: the log was reopened outside the pod's log directory (%v)", h, err)
		}
		if h != "containerd-runc" { // runletd follows the log only where the shim writes it
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			att := f.CrictlCommand(t, "attach", ctr)
			out, err := runUntil(ctx, att)
			timedOut := ctx.Err() != nil
			cancel()
			if err == nil || timedOut || !strings.Contains(out, "symlink") {
				t.Fatalf("%s: attach following a log through a symlink: %v\n%s", h, err, out)
			}
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

// runUntil runs cmd and returns its combined output; it is killed when
// ctx ends first.
func runUntil(ctx context.Context, cmd *exec.Cmd) (string, error) {
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return out.String(), ctx.Err()
	}
}
