package critestimages

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// dynamicBusybox is where make deps unpacks Debian's busybox package.
func dynamicBusybox(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RUNLET_TOOLS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", ".tools")
	}
	p := filepath.Join(dir, "busybox-dynamic", "bin", "busybox")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: run make deps", p)
		}
		t.Skipf("%s: run make deps", p)
	}
	return p
}

var (
	cacheOnce sync.Once
	cached    map[string]v1.Image
)

// catalogue is buildAll's result, built once for the tests that only read it.
func catalogue(t *testing.T) map[string]v1.Image {
	t.Helper()
	dynamicBusybox(t)
	cacheOnce.Do(func() { cached = buildAll(t) })
	if cached == nil {
		t.Fatal("building the catalogue failed in an earlier test")
	}
	return cached
}

// buildAll builds the catalogue from this machine's files.
func buildAll(t *testing.T) map[string]v1.Image {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs busybox-static")
	}
	dyn := dynamicBusybox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fixture := filepath.Join(t.TempDir(), "fixture")
	if err := BuildFixture(ctx, ".", fixture); err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(Sources{StaticBusybox: "/bin/busybox", DynamicBusybox: dyn, Fixture: fixture,
		Pause: filepath.Join("..", "..", "..", "daemon", "internal", "pause", "pause")})
	if err != nil {
		t.Fatal(err)
	}
	built, err := b.BuildAll()
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]v1.Image{}
	for _, bi := range built {
		for _, r := range bi.Refs {
			byRef[r] = bi.Image
		}
	}
	return byRef
}

func digestOf(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestImagesCritestComparesAreTheSameOrDifferentAsItExpects(t *testing.T) {
	imgs := catalogue(t)
	same := func(a, b string) bool { return digestOf(t, imgs[staging+a]) == digestOf(t, imgs[staging+b]) }
	if !same("test-image-tags:1", "test-image-tags:2") || !same("test-image-tags:1", "test-image-tags:3") {
		t.Error("test-image-tags:1, 2 and 3 must be one image")
	}
	if same("test-image-1:latest", "test-image-2:latest") || same("test-image-2:latest", "test-image-3:latest") || same("test-image-tag:test", "test-image-tag:all") {
		t.Error("test-image-1, 2, 3 (and test-image-tag:test, :all) must be different images")
	}
	if digestOf(t, imgs["registry.k8s.io/pause:3.9"]) != digestOf(t, imgs["k8s.gcr.io/pause:3.9"]) {
		t.Error("pause:3.9 must be one image on both registries")
	}
	if again := buildAll(t); digestOf(t, again[e2e+"busybox:1.29-2"]) != digestOf(t, imgs[e2e+"busybox:1.29-2"]) {
		t.Error("two builds of the default image differ")
	}
}

func TestImageUsersAreTheOnesCritestChecks(t *testing.T) {
	imgs := catalogue(t)
	for ref, want := range map[string]string{
		staging + "test-image-user-uid:latest":            "1002",
		staging + "test-image-user-username:latest":       "www-data",
		staging + "test-image-user-uid-group:latest":      "1003:1004",
		staging + "test-image-user-username-group:latest": "www-data:1004",
		staging + "test-image-predefined-group:latest":    "1000",
	} {
		cfg, err := imgs[ref].ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Config.User != want {
			t.Errorf("%s runs as %q, want %q", ref, cfg.Config.User, want)
		}
	}
}

func TestDefaultImageHasADynamicBusyboxItsLibrariesAndPgrepAndIpcs(t *testing.T) {
	imgs := catalogue(t)
	files := filesOf(t, imgs[e2e+"busybox:1.29-2"])
	for _, p := range []string{"bin/sh", "bin/ls", "bin/top", "bin/ping", "bin/brctl", "usr/bin/pgrep", "usr/bin/ipcs",
		"lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2", "etc/passwd"} {
		if _, ok := files[p]; !ok {
			t.Errorf("default image lacks /%s", p)
		}
	}
	if h := files["lib64/ld-linux-x86-64.so.2"]; h != nil && h.Typeflag != tar.TypeSymlink {
		t.Errorf("/lib64/ld-linux-x86-64.so.2 is type %c, want a symlink to the loader", h.Typeflag)
	}
}

func TestNonewprivsProbeIsSetuidRoot(t *testing.T) {
	imgs := catalogue(t)
	h := filesOf(t, imgs[e2e+"nonewprivs:1.3"])["usr/local/bin/nnp"]
	if h == nil || h.Uid != 0 || h.Mode&0o4000 == 0 {
		t.Fatalf("nnp: %+v, want setuid root", h)
	}
}

func TestMirrorRefKeepsTheRepositoryPathAndTag(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.k8s.io/pause:3.9":                             "127.0.0.1:5000/pause:3.9",
		"k8s.gcr.io/pause:3.9":                                  "127.0.0.1:5000/pause:3.9",
		"registry.k8s.io/e2e-test-images/busybox:1.29-2":        "127.0.0.1:5000/e2e-test-images/busybox:1.29-2",
		"gcr.io/k8s-staging-cri-tools/test-image-latest:latest": "127.0.0.1:5000/k8s-staging-cri-tools/test-image-latest:latest",
	} {
		got, err := MirrorRef("127.0.0.1:5000", ref)
		if err != nil || got != want {
			t.Errorf("MirrorRef(%s) = %q, %v; want %q", ref, got, err, want)
		}
	}
}

// filesOf lists the flattened file system of img by path.
func filesOf(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Clean(h.Name)] = h
	}
}
