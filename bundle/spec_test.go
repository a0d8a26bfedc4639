package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWriteSpecThenReadSpecRoundTrips(t *testing.T) {
	dir := t.TempDir()
	want := &specs.Spec{Version: "1.0.2", Hostname: "h", Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"}}
	if err := WriteSpec(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSpec(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.0.2" || got.Hostname != "h" || got.Process.Args[0] != "sh" {
		t.Fatalf("ReadSpec = %+v", got)
	}
	assertMode(t, ConfigPath(dir), 0o600)
	assertOnlyConfig(t, dir)
}

func TestReadSpecClassifiesMissingAndCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadSpec(dir); !errdefs.IsNotFound(err) {
		t.Errorf("ReadSpec(missing) = %v, want NotFound", err)
	}
	if err := os.WriteFile(ConfigPath(dir), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSpec(dir); !errdefs.IsInvalidArgument(err) {
		t.Errorf("ReadSpec(corrupt) = %v, want InvalidArgument", err)
	}
}

// Readers racing a writer must always see one complete version of the file.
func TestWriteSpecIsAtomicForConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	small := &specs.Spec{Version: "small"}
	large := &specs.Spec{Version: "large", Annotations: map[string]string{}}
	for i := range 2000 {
		large.Annotations[fmt.Sprintf("key-%d", i)] = "value"
	}
	if err := WriteSpec(dir, small); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range 50 {
			if err := WriteSpec(dir, []*specs.Spec{small, large}[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			wg.Wait()
			assertOnlyConfig(t, dir)
			return
		default:
		}
		s, err := ReadSpec(dir)
		if err != nil {
			t.Fatalf("read %d saw a partial file: %v", reads, err)
		}
		if s.Version != "small" && s.Version != "large" {
			t.Fatalf("read %d saw version %q", reads, s.Version)
		}
	}
}

func TestWriteSpecFailureKeepsOldFileAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	// A directory in place of config.json makes the final rename fail.
	if err := os.Mkdir(ConfigPath(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteSpec(dir, &specs.Spec{Version: "x"}); err == nil {
		t.Fatal("WriteSpec over a directory succeeded")
	}
	assertOnlyConfig(t, dir)
	if fi, err := os.Stat(ConfigPath(dir)); err != nil || !fi.IsDir() {
		t.Fatalf("config.json changed: %v %v", fi, err)
	}
}

func TestWriteSpecClassifiesBadInput(t *testing.T) {
	if err := WriteSpec(t.TempDir(), nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("WriteSpec(nil) = %v, want InvalidArgument", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if err := WriteSpec(missing, &specs.Spec{}); !errdefs.IsNotFound(err) {
		t.Errorf("WriteSpec(missing dir) = %v, want NotFound", err)
	}
}

func assertOnlyConfig(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != ConfigFile {
			t.Errorf("unexpected file left in bundle: %s", e.Name())
		}
	}
}
