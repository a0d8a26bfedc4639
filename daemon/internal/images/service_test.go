package images

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/store"
)

func newService(t *testing.T, root string) *Service {
	t.Helper()
	db, err := store.Open(filepath.Join(root, "runlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(Options{Root: filepath.Join(root, "images"), DB: db, Config: config.Images{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testImage(t *testing.T, files map[string]string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := newTarWriter(&buf)
	for name, content := range files {
		tw.file(t, name, content)
	}
	tw.close(t)
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestRegisterIsIdempotentAndPinned(t *testing.T) {
	needRoot(t)
	s := newService(t, t.TempDir())
	img := testImage(t, map[string]string{"hello": "world"})
	a, err := s.Register(context.Background(), "localhost/test/img:1", img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Register(context.Background(), "localhost/test/img:1", img)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || !b.Pinned || len(s.List()) != 1 {
		t.Fatalf("first %+v second %+v list %d", a, b, len(s.List()))
	}
	got, err := os.ReadFile(filepath.Join(s.LayerPath(b.Layers[0]), "hello"))
	if err != nil || string(got) != "world" {
		t.Fatalf("unpacked file = %q, %v", got, err)
	}
}

func TestLayerWhoseContentDoesNotMatchItsDiffIDIsRefusedAndRemoved(t *testing.T) {
	needRoot(t)
	s := newService(t, t.TempDir())
	img := testImage(t, map[string]string{"hello": "world"})
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.RootFS.DiffIDs[0] = v1.Hash{Algorithm: "sha256", Hex: hex64}
	lying, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Register(context.Background(), "localhost/test/lying:1", lying)
	if !errdefs.IsDataLoss(err) {
		t.Fatalf("err = %v, want DataLoss", err)
	}
	for _, dir := range []string{s.layersDir(), s.contentDir(), s.tmpDir()} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s holds %d entries after the refused image", dir, len(entries))
		}
	}
	if len(s.List()) != 0 {
		t.Fatal("the refused image was registered")
	}
}

func TestGetFindsImagesByIDPrefixTagAndDigest(t *testing.T) {
	needRoot(t)
	s := newService(t, t.TempDir())
	img, err := s.Register(context.Background(), "docker.io/library/busybox:1", testImage(t, map[string]string{"a": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	hex := img.ID[len("sha256:"):]
	for _, ref := range []string{img.ID, hex, hex[:12], "busybox:1", "docker.io/library/busybox:1"} {
		got, err := s.Get(ref)
		if err != nil || got.ID != img.ID {
			t.Errorf("Get(%q) = %s, %v", ref, got.ID, err)
		}
	}
	for _, ref := range []string{"busybox:2", "busybox", hex[:3], "sha256:" + hex64} {
		if _, err := s.Get(ref); !errdefs.IsNotFound(err) {
			t.Errorf("Get(%q): %v, want NotFound", ref, err)
		}
	}
}

func TestStoreSurvivesARestartAndDropsOrphans(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	s := newService(t, root)
	img, err := s.Register(context.Background(), "localhost/test/img:1", testImage(t, map[string]string{"a": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	// What a crash mid-pull leaves: a scratch dir and an unrecorded layer dir.
	os.Mkdir(filepath.Join(s.tmpDir(), "layer-123"), 0o700)
	os.Mkdir(s.LayerPath("sha256:"+hex64), 0o755)
	s.db.Close()

	s2 := newService(t, root)
	if _, err := s2.Get(img.ID); err != nil {
		t.Fatalf("image lost across restart: %v", err)
	}
	if entries, _ := os.ReadDir(s2.tmpDir()); len(entries) != 0 {
		t.Fatal("scratch dir not cleaned at start")
	}
	if _, err := os.Stat(s2.LayerPath("sha256:" + hex64)); !os.IsNotExist(err) {
		t.Fatal("unrecorded layer dir not removed at start")
	}
	if _, err := os.Stat(s2.LayerPath(img.Layers[0])); err != nil {
		t.Fatalf("recorded layer removed: %v", err)
	}
}
