package images

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/errdefs"
)

// ImportFile loads every image of an OCI image layout (a directory or a tar
// of one) or a docker-archive tarball (docker save) into the store. A tar
// may be gzip- or zstd-compressed.
func (s *Service) ImportFile(ctx context.Context, path string) ([]Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v: %w", path, err, errdefs.ErrNotFound)
	}
	if st.IsDir() {
		return s.importLayout(ctx, path)
	}
	open := archiveOpener(path)
	kind, err := archiveKind(path, open)
	if err != nil {
		return nil, err
	}
	if kind == "docker" {
		return s.importDockerArchive(ctx, path, open)
	}
	dir, err := os.MkdirTemp(s.tmpDir(), "import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractPlain(path, open, dir); err != nil {
		return nil, err
	}
	return s.importLayout(ctx, dir)
}

// archiveOpener opens the tar at path, decompressing a gzip or zstd file.
func archiveOpener(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		go func() {
			err := decompress(f, pw)
			f.Close()
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
}

// archiveKind tells an OCI layout tar ("oci") from a docker-archive ("docker").
// A docker save of Docker 25+ is both; the OCI index is preferred.
func archiveKind(path string, open func() (io.ReadCloser, error)) (string, error) {
	f, err := open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	kind := ""
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("import %s: not a tar archive: %v: %w", path, err, errdefs.ErrInvalidArgument)
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "oci-layout":
			return "oci", nil
		case "manifest.json":
			kind = "docker"
		}
	}
	if kind == "" {
		return "", fmt.Errorf("import %s: neither an OCI image layout (oci-layout) nor a docker-archive (manifest.json): %w", path, errdefs.ErrInvalidArgument)
	}
	return kind, nil
}

// extractPlain unpacks a tar of plain files and directories into dir,
// refusing links, devices and any name that leaves dir.
func extractPlain(path string, open func() (io.ReadCloser, error), dir string) error {
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
		}
		if err := extractPlainEntry(root, tr, hdr); err != nil {
			return fmt.Errorf("import %s: entry %q: %w", path, hdr.Name, err)
		}
	}
}

func extractPlainEntry(root *os.Root, tr io.Reader, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Name)
	if err != nil || rel == "." {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return escapeError(root.MkdirAll(rel, 0o700))
	case tar.TypeReg, tar.TypeRegA:
		if err := root.MkdirAll(pathDir(rel), 0o700); err != nil {
			return escapeError(err)
		}
		return escapeError(writeRootFile(root, rel, tr))
	default:
		return fmt.Errorf("an image layout holds only files and directories, not type %q: %w", hdr.Typeflag, errdefs.ErrInvalidArgument)
	}
}

func writeRootFile(root *os.Root, rel string, r io.Reader) error {
	f, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func pathDir(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[:i]
	}
	return "."
}
