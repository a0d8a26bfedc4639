package images

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDataIsSyncedBeforeTheRecordsThatPointToIt watches every sync of an
// image's registration and what the store recorded at that moment: each
// blob, the layer's tree and the directories they were renamed into are
// synced while no record points to them yet.
func TestDataIsSyncedBeforeTheRecordsThatPointToIt(t *testing.T) {
	needRoot(t)
	s := newService(t, t.TempDir())
	img := testImage(t, map[string]string{"etc/motd": "hello\n", "bin/tool": "#!/bin/sh\n"})
	count := func(bucket string) int {
		n := 0
		s.db.ForEach(bucket, func(string, []byte) error { n++; return nil })
		return n
	}
	var kinds []string
	syncHook = func(kind, path string) {
		kinds = append(kinds, kind+":"+filepath.Base(filepath.Dir(path)))
		if images, layers := count(bucketImages), count(bucketLayers); images != 0 || layers != 0 {
			t.Errorf("sync of %s %s after the store recorded %d images and %d layers", kind, path, images, layers)
		}
	}
	t.Cleanup(func() { syncHook = nil })
	if _, err := s.Register(context.Background(), "localhost/test/durable:1", img); err != nil {
		t.Fatal(err)
	}
	syncHook = nil
	for _, want := range []string{"blob:", "dir:content", "tree:tmp", "dir:layers"} {
		if !slices.ContainsFunc(kinds, func(k string) bool { return strings.HasPrefix(k, want) }) {
			t.Fatalf("no %q among the syncs %v", want, kinds)
		}
	}
	if count(bucketImages) != 1 || count(bucketLayers) != 1 {
		t.Fatalf("the store recorded %d images and %d layers, want 1 and 1", count(bucketImages), count(bucketLayers))
	}
}
