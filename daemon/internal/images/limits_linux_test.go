package images

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/daemon/internal/config"
)

// fdCounter is a reader that samples this process's open descriptors while
// the unpacker reads from it, and keeps the highest count seen.
type fdCounter struct {
	r     io.Reader
	reads int
	peak  int
}

func (c *fdCounter) Read(p []byte) (int, error) {
	if c.reads++; c.reads%64 == 0 {
		entries, _ := os.ReadDir("/proc/self/fd")
		c.peak = max(c.peak, len(entries))
	}
	return c.r.Read(p)
}

func TestUnpackKeepsABoundedNumberOfDirectoriesOpenHoweverManyTheLayerHas(t *testing.T) {
	needRoot(t)
	const dirs = 2000
	var hdrs []*tar.Header
	for i := range dirs {
		hdrs = append(hdrs, &tar.Header{Name: fmt.Sprintf("d%05d/", i), Typeflag: tar.TypeDir, Mode: 0o755},
			file(fmt.Sprintf("d%05d/f", i), "x", 0o644))
	}
	r := layerTar(t, hdrs...)
	before, _ := os.ReadDir("/proc/self/fd")
	c := &fdCounter{r: r}
	if err := unpackLayer(context.Background(), c, t.TempDir(), config.DefaultImageLimits()); err != nil {
		t.Fatal(err)
	}
	if grew := c.peak - len(before); grew > maxOpenDirs+8 {
		t.Fatalf("unpacking %d directories held %d more descriptors open, want at most about %d", dirs, grew, maxOpenDirs)
	}
	t.Logf("%d directories: at most %d descriptors more than before", dirs, c.peak-len(before))
}

func TestUnpackIgnoresPaxGlobalHeaders(t *testing.T) {
	needRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": "git archive"}, Format: tar.FormatPAX}); err != nil {
		t.Fatal(err)
	}
	tw.WriteHeader(&tar.Header{Name: "etc/hostname", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	tw.Write([]byte("box"))
	tw.Close()
	layer, _, err := unpackInto(t, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("a layer with a pax global header: %v", err)
	}
	entries, _ := os.ReadDir(layer)
	if len(entries) != 1 || entries[0].Name() != "etc" {
		t.Fatalf("layer holds %v, want only etc", entries)
	}
}

func TestUnpackRefusesALayerWithMoreEntriesThanTheLimit(t *testing.T) {
	needRoot(t)
	var hdrs []*tar.Header
	for i := range 20 {
		hdrs = append(hdrs, file(fmt.Sprintf("f%d", i), "", 0o644))
	}
	limits := config.DefaultImageLimits()
	limits.MaxLayerEntries = 10
	err := unpackLayer(context.Background(), layerTar(t, hdrs...), t.TempDir(), limits)
	if !errdefs.IsFailedPrecondition(err) || !bytes.Contains([]byte(err.Error()), []byte("images.max_layer_entries")) {
		t.Fatalf("a layer of 20 entries with a limit of 10: %v, want FailedPrecondition naming the key", err)
	}
}

func TestUnpackRefusesAFileOverTheSizeLimitBeforeWritingIt(t *testing.T) {
	needRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// The header claims 1 TiB; no data follows: the unpacker must refuse on the header alone.
	tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 40})
	dir := t.TempDir()
	limits := config.DefaultImageLimits()
	limits.MaxLayerUnpackedBytes = 1 << 30
	err := unpackLayer(context.Background(), bytes.NewReader(buf.Bytes()), dir, limits)
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("a 1 TiB file with a 1 GiB limit: %v, want FailedPrecondition", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the refused layer wrote %v", entries)
	}
}

// sparseTar is GNU tar's archive (--sparse) of a 256 MiB file holding 4 KiB of data.
func sparseTar(t *testing.T) []byte {
	t.Helper()
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("GNU tar is needed to write a sparse archive")
	}
	src := t.TempDir()
	f, err := os.Create(filepath.Join(src, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{'d'}, 4096), 128<<20)
	f.Truncate(256 << 20)
	f.Close()
	out, err := exec.Command(tarBin, "--sparse", "--format=posix", "-C", src, "-cf", "-", "sparse").Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUnpackKeepsSparseHolesAsHolesAndCountsThemAgainstTheSizeLimit(t *testing.T) {
	needRoot(t)
	archive := sparseTar(t)
	layer, _, err := unpackInto(t, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	mustLstat(t, filepath.Join(layer, "sparse"), &st)
	if st.Size != 256<<20 || st.Blocks*512 > 1<<20 {
		t.Fatalf("sparse file of 256 MiB with 4 KiB of data: size %d, %d bytes allocated", st.Size, st.Blocks*512)
	}
	got, _ := os.ReadFile(filepath.Join(layer, "sparse"))
	if !bytes.Equal(got[128<<20:128<<20+4096], bytes.Repeat([]byte{'d'}, 4096)) || got[0] != 0 {
		t.Fatal("the sparse file's data is not where the archive put it")
	}

	limits := config.DefaultImageLimits()
	limits.MaxLayerUnpackedBytes = 64 << 20
	err = unpackLayer(context.Background(), bytes.NewReader(archive), t.TempDir(), limits)
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("256 MiB of holes with a 64 MiB limit: %v, want FailedPrecondition", err)
	}
}
