package kubelet

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// kubectl runs kubectl as the admin and fails the test on an error.
func (c *cluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.kubectlErr(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kubectlErr runs kubectl as the admin (one minute at most) and returns
// its trimmed output, standard error included.
func (c *cluster) kubectlErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return c.kubectlIn(t, "", args...)
}

// kubectlIn is kubectlErr with stdin as kubectl's standard input.
func (c *cluster) kubectlIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, daemontest.Tool(t, "kubectl"), append([]string{"--kubeconfig", c.admin}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// apply creates or updates the objects of a YAML document.
func (c *cluster) apply(t *testing.T, manifest string) {
	t.Helper()
	if out, err := c.kubectlIn(t, manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, manifest)
	}
}
