package images

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/runlet/runlet/integration/internal/daemontest"
)

// The shared end-to-end harness (daemontest) under this package's names.
var (
	repoRoot      = daemontest.RepoRoot
	needRoot      = daemontest.NeedRoot
	tool          = daemontest.Tool
	runletdBinary = daemontest.Runletd
	freePort      = daemontest.FreePort
	shortTempDir  = daemontest.ShortTempDir
	unmountUnder  = daemontest.UnmountUnder
	startProcess  = daemontest.StartProcess
	waitFor       = daemontest.WaitFor
	daemonConfig  = daemontest.Config
	startDaemon   = daemontest.Start
	startDaemonIn = daemontest.StartIn
	ctxT          = daemontest.Ctx
)

type daemon = daemontest.Daemon

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// registry is a real distribution registry on a free loopback port.
type registry struct {
	Host string // 127.0.0.1:PORT
	proc *daemontest.Process
}

// startRegistry starts `registry serve` with storage under a temp dir.
// extraYAML is added to the config (for example an auth section).
func startRegistry(t testing.TB, extraYAML string) *registry {
	t.Helper()
	host, p := daemontest.RegistryWith(t, extraYAML)
	return &registry{Host: host, proc: p}
}

// storeLayers lists the unpacked layer directories of the daemon's store.
func storeLayers(t testing.TB, d *daemon) []string {
	return dirNames(t, filepath.Join(d.Root, "images", "layers", "sha256"))
}

// storeBlobs lists the stored content (manifests, configs) of the daemon's store.
func storeBlobs(t testing.TB, d *daemon) []string {
	return dirNames(t, filepath.Join(d.Root, "images", "content", "sha256"))
}

// storeTmp lists what in-flight pulls keep in the store's scratch dir.
func storeTmp(t testing.TB, d *daemon) []string {
	return dirNames(t, filepath.Join(d.Root, "images", "tmp"))
}

func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
