package bundle

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

const testSpec = `{"ociVersion":"1.0.2","root":{"path":"rootfs"}}`

func TestNewCreatesLayoutWithSafeModes(t *testing.T) {
	state := t.TempDir()
	b, err := New(context.Background(), state, "ns1", "c1", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Delete(context.Background()) })

	if want := filepath.Join(state, "ns1", "c1"); b.Path != want || b.ID != "c1" {
		t.Fatalf("bundle = %+v, want path %s id c1", b, want)
	}
	assertMode(t, b.Path, fs.ModeDir|0o700)
	assertMode(t, filepath.Join(state, "ns1"), fs.ModeDir|0o700)
	assertMode(t, b.Config(), 0o600)
	assertMode(t, b.Rootfs(), fs.ModeDir|0o711)
	data, err := os.ReadFile(b.Config())
	if err != nil || string(data) != testSpec {
		t.Fatalf("config.json = %q, %v; want %q", data, err, testSpec)
	}
}

func TestNewRefusesExistingBundleAndKeepsIt(t *testing.T) {
	state := t.TempDir()
	ctx := context.Background()
	b, err := New(ctx, state, "ns", "dup", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Delete(ctx) })

	_, err = New(ctx, state, "ns", "dup", []byte(`{}`))
	if !errdefs.IsAlreadyExists(err) {
		t.Fatalf("second New = %v, want AlreadyExists", err)
	}
	if data, _ := os.ReadFile(b.Config()); string(data) != testSpec {
		t.Fatalf("existing config.json overwritten: %q", data)
	}
}

func TestNewRejectsBadArgumentsWithoutCreatingAnything(t *testing.T) {
	state := t.TempDir()
	for name, args := range map[string][3]string{
		"relative state dir": {"rel/state", "ns", "id"},
		"bad namespace":      {state, "../ns", "id"},
		"bad id":             {state, "ns", "a/b"},
		"invalid json":       {state, "ns", "id"},
	} {
		t.Run(name, func(t *testing.T) {
			spec := []byte(testSpec)
			if name == "invalid json" {
				spec = []byte("{not json")
			}
			_, err := New(context.Background(), args[0], args[1], args[2], spec)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("New = %v, want InvalidArgument", err)
			}
			assertEmptyDir(t, state)
		})
	}
}

func TestNewLeavesNothingWhenRootfsCreationFails(t *testing.T) {
	state := t.TempDir()
	injected := errors.New("injected rootfs failure")
	mkdirRootfs = func(string, fs.FileMode) error { return injected }
	t.Cleanup(func() { mkdirRootfs = mkdirExact })

	_, err := New(context.Background(), state, "ns", "c1", []byte(testSpec))
	if !errors.Is(err, injected) {
		t.Fatalf("New = %v, want the injected error", err)
	}
	assertEmptyDir(t, filepath.Join(state, "ns"))
}

func TestNewHonoursCancelledContext(t *testing.T) {
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, state, "ns", "c1", []byte(testSpec)); !errors.Is(err, context.Canceled) {
		t.Fatalf("New = %v, want context.Canceled", err)
	}
	assertEmptyDir(t, state)
}

func TestDeleteRemovesBundleAndIsIdempotent(t *testing.T) {
	state := t.TempDir()
	ctx := context.Background()
	b, err := New(ctx, state, "ns", "c1", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := b.Delete(ctx); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	assertEmptyDir(t, filepath.Join(state, "ns"))
}

func TestDeleteRefusesInvalidPaths(t *testing.T) {
	for _, b := range []*Bundle{nil, {}, {Path: "rel"}, {Path: "/"}} {
		if err := b.Delete(context.Background()); !errdefs.IsInvalidArgument(err) {
			t.Errorf("Delete(%+v) = %v, want InvalidArgument", b, err)
		}
	}
}

func TestLoadFindsExistingBundleAndRejectsOthers(t *testing.T) {
	state := t.TempDir()
	ctx := context.Background()
	made, err := New(ctx, state, "ns", "c1", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { made.Delete(ctx) })

	got, err := Load(made.Path + "/")
	if err != nil || *got != *made {
		t.Fatalf("Load = %+v, %v; want %+v", got, err, made)
	}
	if _, err := Load(filepath.Join(state, "ns", "missing")); !errdefs.IsNotFound(err) {
		t.Errorf("Load(missing) = %v, want NotFound", err)
	}
	if _, err := Load(made.Config()); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Load(file) = %v, want InvalidArgument", err)
	}
	if _, err := Load("relative/c1"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Load(relative) = %v, want InvalidArgument", err)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (fs.ModeType | fs.ModePerm); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}
