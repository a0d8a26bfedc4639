package checkpoint

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// WriteRootfsDiff writes the container's changes, its overlay upper
// directory, as the stage's rootfs-diff.tar, and the paths it deleted
// from its image (overlay whiteouts: 0:0 character devices) as
// deleted.files, as CRI-O does.
func (s *Stage) WriteRootfsDiff(upper string) error {
	f, err := os.OpenFile(filepath.Join(s.Dir, RootfsDiffTar), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", RootfsDiffTar, err)
	}
	deleted, err := writeTree(f, upper, true)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s of %s: %w", RootfsDiffTar, upper, err)
	}
	if deleted == nil {
		deleted = []string{}
	}
	return s.WriteJSON(DeletedFiles, deleted)
}

// writeTree tars dir's content (names relative to it) to w. With
// whiteouts, 0:0 character devices are left out and returned as the
// paths they delete.
func writeTree(w io.Writer, dir string, whiteouts bool) ([]string, error) {
	tw := tar.NewWriter(w)
	var deleted []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if whiteouts && isWhiteout(info) {
			deleted = append(deleted, rel)
			return nil
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.CopyN(tw, src, hdr.Size)
		return err
	})
	if err != nil {
		return nil, err
	}
	return deleted, tw.Close()
}

func isWhiteout(info fs.FileInfo) bool {
	if info.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}
