// Package testimages builds small, reproducible OCI images from files on
// this machine (busybox-static, a static pause), for the integration tests
// and for an air-gapped first run. Nothing is downloaded.
package testimages

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Busybox is where Debian's busybox-static puts the binary.
const Busybox = "/bin/busybox"

// epoch is the fixed time of every file and config, so digests are stable.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of a layer built in memory.
type File struct {
	Name     string // path inside the image, without a leading slash
	Mode     int64
	Data     []byte
	Link     string // symlink target when Type is tar.TypeSymlink, hardlink target for TypeLink
	Type     byte   // tar type; 0 means a regular file
	Uid, Gid int
	Xattrs   map[string]string
}

// Layer builds an uncompressed-tar layer (gzip on push) from files.
func Layer(files []File) (v1.Layer, error) {
	b, err := Tar(files)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// Tar writes files as a tar archive.
func Tar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.Name, Mode: f.Mode, Typeflag: f.Type, Linkname: f.Link,
			Uid: f.Uid, Gid: f.Gid, ModTime: epoch, Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(f.Data))
		}
		for k, v := range f.Xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// BusyboxFiles is a minimal root filesystem laid out as the official busybox
// image is: busybox and a hardlink to it per applet,
// /etc/passwd and /etc/group with root, www-data and nobody, and /tmp.
func BusyboxFiles() ([]File, error) {
	bin, err := os.ReadFile(Busybox)
	if err != nil {
		return nil, fmt.Errorf("%s (apt-get install busybox-static): %w", Busybox, err)
	}
	applets, err := exec.Command(Busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", Busybox, err)
	}
	files := []File{
		{Name: "bin/", Mode: 0o755, Type: tar.TypeDir},
		{Name: "bin/busybox", Mode: 0o755, Data: bin},
		{Name: "etc/", Mode: 0o755, Type: tar.TypeDir},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n")},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n")},
		{Name: "root/", Mode: 0o700, Type: tar.TypeDir},
		{Name: "tmp/", Mode: 0o1777, Type: tar.TypeDir},
	}
	names := strings.Fields(string(applets))
	sort.Strings(names)
	for _, a := range names {
		if a != "busybox" {
			files = append(files, File{Name: "bin/" + a, Mode: 0o755, Type: tar.TypeLink, Link: "bin/busybox"})
		}
	}
	return files, nil
}

// Config is an image config for linux/arch running cmd as user.
func Config(arch, user string, cmd ...string) v1.ConfigFile {
	return v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Created:      v1.Time{Time: epoch},
		Config: v1.Config{
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:  cmd,
			User: user,
		},
	}
}

// Image is an OCI image of the layers with cfg (diff IDs filled in).
func Image(cfg v1.ConfigFile, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	base, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg.RootFS = base.RootFS
	cfg.History = nil
	return mutate.ConfigFile(img, &cfg)
}

// BusyboxImage is the busybox root filesystem as an image for linux/amd64
// running sh as user ("" for root).
func BusyboxImage(user string) (v1.Image, error) {
	files, err := BusyboxFiles()
	if err != nil {
		return nil, err
	}
	layer, err := Layer(files)
	if err != nil {
		return nil, err
	}
	return Image(Config("amd64", user, "sh"), layer)
}

// PauseImage is an image whose only file is the static pause program at /pause.
func PauseImage(pauseBinary []byte) (v1.Image, error) {
	layer, err := Layer([]File{{Name: "pause", Mode: 0o755, Data: pauseBinary}})
	if err != nil {
		return nil, err
	}
	cfg := Config("amd64", "65535:65535")
	cfg.Config.Entrypoint = []string{"/pause"}
	return Image(cfg, layer)
}

// Index is a multi-platform OCI index of the images, each with its platform.
func Index(imgs map[string]v1.Image) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	archs := make([]string, 0, len(imgs))
	for a := range imgs {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	var adds []mutate.IndexAddendum
	for _, a := range archs {
		adds = append(adds, mutate.IndexAddendum{Add: imgs[a],
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: a}}})
	}
	return mutate.AppendManifests(idx, adds...), nil
}
