package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlet/runlet/integration/images/testimages"
)

func runletdImport(t *testing.T, d *daemon, files ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(runletdBinary(t), append([]string{"--config", d.ConfigPath, "images", "import"}, files...)...).CombinedOutput()
	return string(out), err
}

func TestImportCommandLoadsOCILayoutAndDockerArchives(t *testing.T) {
	needRoot(t)
	dir := shortTempDir(t)
	oci, docker := filepath.Join(dir, "busybox-oci.tar"), filepath.Join(dir, "app-docker.tar")
	if err := testimages.WriteOCIArchive(oci, "docker.io/library/busybox:1.36", busybox(t, "")); err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(docker, "localhost/app:1", busybox(t, "www-data")); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "")
	d.Stop(t) // the store is single-writer: import while runletd is down

	out, err := runletdImport(t, d, oci, docker)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	os.Remove(d.Sock)
	d = startDaemonIn(t, d.Dir, "")
	images := d.MustCrictl(t, "images")
	for _, want := range []string{"docker.io/library/busybox", "1.36", "localhost/app"} {
		if !strings.Contains(images, want) {
			t.Fatalf("crictl images lacks %s:\n%s", want, images)
		}
	}
	if st := imageStatus(t, d, "busybox:1.36"); st.Id != configDigest(t, busybox(t, "")) || len(st.RepoDigests) != 1 {
		t.Fatalf("OCI import: %+v", st)
	}
	if st := imageStatus(t, d, "localhost/app:1"); st.Username != "www-data" {
		t.Fatalf("docker-archive import: %+v", st)
	}
	if n := len(storeLayers(t, d)); n != 2 {
		t.Fatalf("%d layer dirs, want 2: pause and the busybox layer both imports share", n)
	}
}

func TestImportWhileRunletdRunsSaysSo(t *testing.T) {
	needRoot(t)
	d := startDaemon(t, "")
	tarPath := filepath.Join(d.Dir, "bb.tar")
	if err := testimages.WriteOCIArchive(tarPath, "docker.io/library/busybox:1", busybox(t, "")); err != nil {
		t.Fatal(err)
	}
	out, err := runletdImport(t, d, tarPath)
	if err == nil || !strings.Contains(out, "in use") {
		t.Fatalf("import next to a running runletd: %v\n%s", err, out)
	}
}

func TestImportRefusesAnArchiveWithAPathOutOfItsDirectory(t *testing.T) {
	needRoot(t)
	d := startDaemon(t, "")
	d.Stop(t)
	evil := filepath.Join(d.Dir, "evil.tar")
	f, _ := os.Create(evil)
	tw := tar.NewWriter(f)
	for _, e := range []struct{ name, body string }{{"oci-layout", `{"imageLayoutVersion":"1.0.0"}`}, {"../../escaped", "x"}} {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(e.body))
	}
	tw.Close()
	f.Close()
	out, err := runletdImport(t, d, evil)
	if err == nil || !strings.Contains(out, "escapes") {
		t.Fatalf("import of an escaping archive: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(d.Root, "escaped")); !os.IsNotExist(err) {
		t.Fatal("the archive wrote outside its scratch directory")
	}
	if tmp := storeTmp(t, d); len(tmp) != 0 {
		t.Fatalf("scratch left: %v", tmp)
	}
}

// gzipFile writes src gzip-compressed to dst.
func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(dst, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEveryTarballOfTheImportDirIsLoadedAtStart(t *testing.T) {
	needRoot(t)
	dir := shortTempDir(t)
	importDir := filepath.Join(dir, "import")
	os.Mkdir(importDir, 0o700)
	if err := testimages.WriteOCIArchive(filepath.Join(importDir, "busybox.tar"), "docker.io/library/busybox:latest", busybox(t, "")); err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(filepath.Join(importDir, "app.tar"), "localhost/app:2", busybox(t, "1002")); err != nil {
		t.Fatal(err)
	}
	gzipFile(t, filepath.Join(importDir, "app.tar"), filepath.Join(importDir, "app.tar.gz"))
	os.Remove(filepath.Join(importDir, "app.tar")) // only the compressed one stays
	os.WriteFile(filepath.Join(importDir, "notes.txt"), []byte("not an image"), 0o600)
	cfg := "[images]\nimport_dir = \"" + importDir + "\"\n"
	d := startDaemonIn(t, dir, cfg)

	imageStatus(t, d, "busybox")
	if st := imageStatus(t, d, "localhost/app:2"); st.GetUid().GetValue() != 1002 {
		t.Fatalf("app:2 uid %v", st.GetUid())
	}
	// A restart does not load unchanged tarballs again.
	d.Stop(t)
	d = startDaemonIn(t, dir, cfg)
	if strings.Contains(d.Proc.LogText(), "imported image") {
		t.Fatalf("unchanged tarballs were imported again:\n%s", d.Proc.LogText())
	}
	imageStatus(t, d, "busybox")
}
