package images

import (
	"archive/tar"
	"io"
	"sort"
	"testing"
)

type tarWriter struct {
	tw    *tar.Writer
	names []string
	files map[string]string
}

func newTarWriter(w io.Writer) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), files: map[string]string{}}
}

func (w *tarWriter) file(t *testing.T, name, content string) {
	w.names = append(w.names, name)
	w.files[name] = content
}

// close writes the files in name order, so equal maps give equal layers.
func (w *tarWriter) close(t *testing.T) {
	t.Helper()
	sort.Strings(w.names)
	for _, n := range w.names {
		c := w.files[n]
		if err := w.tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		w.tw.Write([]byte(c))
	}
	if err := w.tw.Close(); err != nil {
		t.Fatal(err)
	}
}
