package critest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/runlet/runlet/integration/critest/critestimages"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

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
	host := daemontest.Registry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := critestimages.Push(ctx, host, imgs); err != nil {
		t.Fatal(err)
	}
	return host
}
