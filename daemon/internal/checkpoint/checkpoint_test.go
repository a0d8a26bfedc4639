package checkpoint

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func tarNames(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[hdr.Name] = b
	}
}

func TestRootfsDiffLeavesWhiteoutsOutAndListsThemAsDeleted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts are 0:0 character devices: needs root")
	}
	upper := t.TempDir()
	os.MkdirAll(filepath.Join(upper, "etc"), 0o755)
	os.WriteFile(filepath.Join(upper, "etc", "new"), []byte("new\n"), 0o644)
	os.Symlink("new", filepath.Join(upper, "etc", "link"))
	if err := unix.Mknod(filepath.Join(upper, "etc", "passwd"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	s, err := NewStage(t.TempDir(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRootfsDiff(upper); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(s.Dir, RootfsDiffTar))
	defer f.Close()
	diff := tarNames(t, f)
	if _, ok := diff["etc/passwd"]; ok || string(diff["etc/new"]) != "new\n" {
		t.Fatalf("rootfs diff = %v", diff)
	}
	if _, ok := diff["etc/link"]; !ok {
		t.Fatalf("the symlink is missing: %v", diff)
	}
	var deleted []string
	b, _ := os.ReadFile(filepath.Join(s.Dir, DeletedFiles))
	if err := json.Unmarshal(b, &deleted); err != nil || !slices.Equal(deleted, []string{"etc/passwd"}) {
		t.Fatalf("deleted.files = %s, %v", b, err)
	}
}

func TestArchiveHoldsTheStageWithoutCRIUsWorkDir(t *testing.T) {
	s, err := NewStage(t.TempDir(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	os.Mkdir(s.ImagePath(), 0o700)
	os.Mkdir(s.WorkPath(), 0o700)
	os.WriteFile(filepath.Join(s.ImagePath(), "pages-1.img"), []byte("pages"), 0o600)
	os.WriteFile(filepath.Join(s.ImagePath(), StatsDump), []byte("stats"), 0o600)
	os.WriteFile(filepath.Join(s.WorkPath(), DumpLog), []byte("line1\nline2\nline3\n"), 0o600)
	if got := s.CRIULog(9); got != "line3\n" {
		t.Fatalf("CRIULog(9) = %q, want the whole last line", got)
	}
	if err := s.WriteJSON(ConfigDump, Config{ID: "c1", Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if err := s.KeepCRIUFiles(); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out.tar")
	if err := s.Archive(dst); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	files := tarNames(t, bytes.NewReader(b))
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"checkpoint/", "checkpoint/pages-1.img", "checkpoint/stats-dump", "config.dump", "dump.log", "stats-dump"}
	if !slices.Equal(names, want) {
		t.Fatalf("archive = %v, want %v", names, want)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 1 {
		t.Fatalf("the destination's directory holds %d entries", len(entries))
	}
}
