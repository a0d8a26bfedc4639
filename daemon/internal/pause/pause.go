// Package pause embeds runlet's built-in sandbox program: a static,
// libc-free pause of a few KiB (csrc/pause.c), so a pod needs no image pull.
//
// The binary is checked in, so `go build ./...` works on a clean clone;
// `go generate ./daemon/internal/pause` rebuilds it from csrc/pause.c with gcc.
package pause

//go:generate sh -c "gcc -dumpfullversion > csrc/gcc-version"
//go:generate gcc -static -nostdlib -Os -fno-asynchronous-unwind-tables -fno-stack-protector -Wl,--build-id=none -s -o pause csrc/pause.c

import (
	"archive/tar"
	"bytes"
	_ "embed"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Binary is the static pause program (linux/amd64).
//
//go:embed pause
var Binary []byte

// Ref names the built-in pause image in the image store. The localhost
// registry is never pulled from: the image is registered at start.
const Ref = "localhost/runlet/pause:builtin"

// epoch is the fixed time stamp of the image, so its ID never changes
// unless the program does.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Image is the built-in pause as an OCI image: one layer holding /pause,
// run as 65535:65535 like the upstream pause image.
func Image() (v1.Image, error) {
	layerTar, err := layerTar()
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: epoch}
	cfg.History = nil
	cfg.Config = v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"}
	return mutate.ConfigFile(img, cfg)
}

func layerTar() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(Binary)), ModTime: epoch, Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(Binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
