package critest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/critest/critestimages"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

// startRegistry starts a real distribution registry on a free loopback
// port, storage in a temp dir, and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin := daemontest.Tool(t, "registry")
	dir := daemontest.ShortTempDir(t)
	host := fmt.Sprintf("127.0.0.1:%d", daemontest.FreePort(t))
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: %s\n", dir, host)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := daemontest.StartProcess(t, filepath.Join(dir, "registry.log"), bin, "serve", cfgPath)
	daemontest.WaitFor(t, 15*time.Second, "the registry to answer /v2/", func() bool {
		if p.Exited() {
			t.Fatalf("registry exited:\n%s", p.LogText())
		}
		resp, err := http.Get("http://" + host + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return host
}

var (
	buildOnce sync.Once
	built     []critestimages.Built
	buildErr  error
)

// critestImages builds every image of the catalogue, once per test binary.
func critestImages(t *testing.T) []critestimages.Built {
	t.Helper()
	dynamic := daemontest.Tool(t, "busybox-dynamic/bin/busybox")
	buildOnce.Do(func() {
		root := daemontest.RepoRoot(t)
		dir, err := os.MkdirTemp("", "critest-fixture-")
		if err != nil {
			buildErr = err
			return
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		fixture := filepath.Join(dir, "fixture")
		if buildErr = critestimages.BuildFixture(ctx, root, fixture); buildErr != nil {
			return
		}
		var b *critestimages.Builder
		b, buildErr = critestimages.NewBuilder(critestimages.Sources{
			StaticBusybox:  "/bin/busybox",
			DynamicBusybox: dynamic,
			Fixture:        fixture,
			Pause:          filepath.Join(root, "daemon", "internal", "pause", "pause"),
		})
		if buildErr == nil {
			built, buildErr = b.BuildAll()
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// serveImages starts a registry holding every image critest pulls, under
// its upstream repository names, and returns its host:port.
func serveImages(t *testing.T) string {
	t.Helper()
	imgs := critestImages(t)
	host := startRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := critestimages.Push(ctx, host, imgs); err != nil {
		t.Fatal(err)
	}
	return host
}
