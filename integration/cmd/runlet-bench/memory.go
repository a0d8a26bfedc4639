package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/shim"
	task "github.com/runlet/runlet/proto/task/v2"
)

// settle is how long a pod runs quietly before its shim's memory is read.
const settle = 2 * time.Second

// podMemory starts one shim serving a pod of two running containers (one
// shim group) and reads its RSS and PSS.
func (e *env) podMemory(ctx context.Context, s benchShim) (string, error) {
	group := "pod-" + randomHex(4)
	var bundles []*bundle.Bundle
	defer func() {
		for _, b := range bundles {
			b.Delete(context.WithoutCancel(ctx))
		}
	}()
	var sh *shim.Shim
	for i := 0; i < 2; i++ {
		b, err := e.newBundle(ctx, group, "sleep", "300")
		if err != nil {
			return "", err
		}
		bundles = append(bundles, b)
		if sh == nil {
			if sh, err = shim.Start(ctx, e.config(s, b)); err != nil {
				return "", err
			}
			defer sh.Close()
		}
		if err := createAndStart(ctx, sh.Task, b, s.options()); err != nil {
			return "", err
		}
	}
	defer stopAll(ctx, sh.Task, bundles)
	c, err := sh.Task.Connect(ctx, &task.ConnectRequest{Id: bundles[0].ID})
	if err != nil {
		return "", err
	}
	// Steady state: what a shim holds while it serves a quiet pod, after
	// the start-up of its containers.
	time.Sleep(settle)
	return smapsRollup(int(c.GetShimPid()))
}

func createAndStart(ctx context.Context, t task.TaskService, b *bundle.Bundle, opts *anypb.Any) error {
	if _, err := t.Create(ctx, &task.CreateTaskRequest{Id: b.ID, Bundle: b.Path, Options: opts}); err != nil {
		return err
	}
	_, err := t.Start(ctx, &task.StartRequest{Id: b.ID})
	return err
}

func stopAll(ctx context.Context, t task.TaskService, bundles []*bundle.Bundle) {
	ctx = context.WithoutCancel(ctx)
	for _, b := range bundles {
		killAndWait(ctx, t, b.ID)
		t.Delete(ctx, &task.DeleteRequest{Id: b.ID})
	}
	t.Shutdown(ctx, &task.ShutdownRequest{Id: bundles[0].ID})
}

// smapsRollup returns "RSS / PSS" in MiB for pid.
func smapsRollup(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return "", err
	}
	kb := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 {
			var v int
			fmt.Sscan(f[1], &v)
			kb[strings.TrimSuffix(f[0], ":")] = v
		}
	}
	return fmt.Sprintf("%.1f / %.1f", float64(kb["Rss"])/1024, float64(kb["Pss"])/1024), nil
}
