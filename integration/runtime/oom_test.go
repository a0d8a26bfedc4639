package runtime

import (
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

func TestAContainerPastItsMemoryLimitExitsAsOOMKilledOnEveryHandler(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"oomrunc", "oomcrun", "oomctrd"}[i]
		pod := f.runp(t, name, h)
		cfg := f.containerConfigWith(t, name, map[string]any{
			"command": []string{"sh", "-c", "dd if=/dev/zero of=/dev/null bs=20M"},
			"linux": map[string]any{"resources": map[string]any{
				"memory_limit_in_bytes": 15 << 20, "memory_swap_limit_in_bytes": 15 << 20}},
		})
		ctr := strings.TrimSpace(f.MustCrictl(t, "create", pod, cfg, f.Dir+"/"+name+"-pod.json"))
		f.MustCrictl(t, "start", ctr)
		var status string
		daemontest.WaitFor(t, time.Minute, "the container to exit OOMKilled", func() bool {
			status = f.MustCrictl(t, "inspect", "-o", "go-template", "--template",
				"{{.status.state}} {{.status.reason}} {{.status.exitCode}}", ctr)
			return strings.HasPrefix(status, "CONTAINER_EXITED OOMKilled")
		})
		if !strings.Contains(status, " 137") {
			t.Fatalf("%s: status %q, want exit code 137", h, status)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}
