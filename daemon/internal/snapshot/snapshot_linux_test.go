package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/images"
	"github.com/runlet/runlet/daemon/internal/store"
)

func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts overlayfs: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

type entry struct {
	name, content string
	typ           byte
}

func layer(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.content))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.content))
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// setup is an image service with a two-layer image whose top layer deletes
// /a (whiteout) and replaces /dir (opaque), and a snapshotter over it.
func setup(t *testing.T) (*images.Service, *Snapshotter, string) {
	t.Helper()
	root := t.TempDir()
	db, err := store.Open(filepath.Join(root, "runlet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := images.New(images.Options{Root: filepath.Join(root, "images"), DB: db, Config: config.Images{}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image,
		layer(t, entry{name: "a", content: "lower a"}, entry{name: "b", content: "lower b"},
			entry{name: "dir/", typ: tar.TypeDir}, entry{name: "dir/x", content: "lower x"}),
		layer(t, entry{name: ".wh.a"}, entry{name: "dir/", typ: tar.TypeDir}, entry{name: "dir/.wh..wh..opq"},
			entry{name: "dir/y", content: "upper y"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Register(context.Background(), "localhost/test/app:1", img); err != nil {
		t.Fatal(err)
	}
	snaps, err := New(filepath.Join(root, "snapshots"), svc)
	if err != nil {
		t.Fatal(err)
	}
	return svc, snaps, root
}

func mountAt(t *testing.T, opts []string) string {
	t.Helper()
	target := t.TempDir()
	if err := unix.Mount("overlay", target, "overlay", 0, strings.Join(opts, ",")); err != nil {
		t.Fatalf("mount overlay %v: %v", opts, err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
	return target
}

func TestPreparedRootfsIsTheImageWithWhiteoutsApplied(t *testing.T) {
	needRoot(t)
	_, snaps, _ := setup(t)
	mounts, err := snaps.Prepare(context.Background(), "ctr1", "localhost/test/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 || mounts[0].Type != "overlay" {
		t.Fatalf("mounts = %v", mounts)
	}
	rootfs := mountAt(t, mounts[0].Options)
	if b, err := os.ReadFile(filepath.Join(rootfs, "b")); err != nil || string(b) != "lower b" {
		t.Fatalf("/b = %q, %v", b, err)
	}
	for _, gone := range []string{"a", "dir/x"} {
		if _, err := os.Lstat(filepath.Join(rootfs, gone)); !os.IsNotExist(err) {
			t.Fatalf("/%s is visible although the top layer deletes it", gone)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(rootfs, "dir/y")); string(b) != "upper y" {
		t.Fatalf("/dir/y = %q", b)
	}
	// Writes land in the container's upper dir, never in a shared layer.
	if err := os.WriteFile(filepath.Join(rootfs, "b"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := strings.TrimPrefix(mounts[0].Options[2], "upperdir=")
	if b, _ := os.ReadFile(filepath.Join(up, "b")); string(b) != "changed" {
		t.Fatalf("upper/b = %q", b)
	}
	lowest := strings.Split(strings.TrimPrefix(mounts[0].Options[1], "lowerdir="), ":")[1]
	if b, _ := os.ReadFile(filepath.Join(lowest, "b")); string(b) != "lower b" {
		t.Fatalf("the shared layer changed: %q", b)
	}
	again, err := snaps.Mounts("ctr1")
	if err != nil || strings.Join(again[0].Options, ",") != strings.Join(mounts[0].Options, ",") {
		t.Fatalf("Mounts = %v, %v", again, err)
	}
}

func TestLayersOfARemovedImageStayWhileASnapshotUsesThem(t *testing.T) {
	needRoot(t)
	svc, snaps, root := setup(t)
	if _, err := snaps.Prepare(context.Background(), "ctr1", "localhost/test/app:1"); err != nil {
		t.Fatal(err)
	}
	layersDir := filepath.Join(root, "images", "layers", "sha256")
	if err := svc.Remove(context.Background(), "localhost/test/app:1"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(layersDir); len(entries) != 2 {
		t.Fatalf("%d layers after rmi, want 2 kept for the snapshot", len(entries))
	}
	if err := snaps.Remove(context.Background(), "ctr1"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(layersDir); len(entries) != 0 {
		t.Fatalf("%d layers after the snapshot went, want 0", len(entries))
	}
	if err := snaps.Remove(context.Background(), "ctr1"); err != nil {
		t.Fatalf("second remove: %v", err)
	}
}

func TestPrepareRefusesBadKeysDuplicatesAndUnknownImages(t *testing.T) {
	needRoot(t)
	_, snaps, root := setup(t)
	ctx := context.Background()
	if _, err := snaps.Prepare(ctx, "../escape", "localhost/test/app:1"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := snaps.Prepare(ctx, "c", "localhost/test/none:1"); !errdefs.IsNotFound(err) {
		t.Fatalf("unknown image: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "snapshots", "c")); !os.IsNotExist(err) {
		t.Fatal("a failed Prepare left its directory")
	}
	if _, err := snaps.Prepare(ctx, "c", "localhost/test/app:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := snaps.Prepare(ctx, "c", "localhost/test/app:1"); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("duplicate key: %v", err)
	}
}

func TestAViewIsTheImageReadOnlyAndKeepsItsLayers(t *testing.T) {
	needRoot(t)
	svc, snaps, root := setup(t)
	ctx := context.Background()
	mounts, err := snaps.View(ctx, "ctr1-iv0", "localhost/test/app:1")
	if err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	if err := bundle.MountAll(ctx, bundle.FromProto(mounts), target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bundle.UnmountAll(ctx, target) })
	if b, err := os.ReadFile(filepath.Join(target, "dir/y")); err != nil || string(b) != "upper y" {
		t.Fatalf("/dir/y = %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(target, "a")); !os.IsNotExist(err) {
		t.Fatal("/a is visible although the top layer deletes it")
	}
	if err := os.WriteFile(filepath.Join(target, "new"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write into the view: %v, want EROFS", err)
	}
	if err := svc.Remove(ctx, "localhost/test/app:1"); err != nil {
		t.Fatal(err)
	}
	layersDir := filepath.Join(root, "images", "layers", "sha256")
	if entries, _ := os.ReadDir(layersDir); len(entries) != 2 {
		t.Fatalf("%d layers after rmi, want 2 kept for the view", len(entries))
	}
	if err := bundle.UnmountAll(ctx, target); err != nil {
		t.Fatal(err)
	}
	if err := snaps.Remove(ctx, "ctr1-iv0"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(layersDir); len(entries) != 0 {
		t.Fatalf("%d layers after the view went, want 0", len(entries))
	}
}

func TestAViewOfASingleLayerImageIsAReadOnlyBind(t *testing.T) {
	needRoot(t)
	svc, snaps, _ := setup(t)
	ctx := context.Background()
	img, err := mutate.AppendLayers(empty.Image, layer(t, entry{name: "only", content: "one"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Register(ctx, "localhost/test/one:1", img); err != nil {
		t.Fatal(err)
	}
	mounts, err := snaps.View(ctx, "v1", "localhost/test/one:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 || mounts[0].Type != "bind" {
		t.Fatalf("mounts = %v", mounts)
	}
	target := t.TempDir()
	if err := bundle.MountAll(ctx, bundle.FromProto(mounts), target); err != nil {
		t.Fatal(err)
	}
	defer bundle.UnmountAll(ctx, target)
	if b, err := os.ReadFile(filepath.Join(target, "only")); err != nil || string(b) != "one" {
		t.Fatalf("/only = %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(target, "only"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write into the view: %v, want EROFS", err)
	}
}
