package images

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// Overlay whiteout conventions of the OCI image layer format.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
	xattrPAXPrefix = "SCHILY.xattr."
)

// unpackLayer extracts the uncompressed layer tar r into the empty directory
// dir, turning whiteouts into overlayfs whiteouts (0:0 character devices) and
// opaque markers into the trusted.overlay.opaque xattr. Every file operation
// goes through an os.Root, so no entry name, symlink or hardlink can make it
// read or write outside dir; an entry that tries is an InvalidArgument error.
func unpackLayer(ctx context.Context, r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var dirs []*tar.Header
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read layer tar: %v: %w", err, errdefs.ErrDataLoss)
		}
		if err := applyEntry(root, tr, hdr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, hdr)
		}
	}
	// Creating children changed the directories' times: set them last.
	for _, hdr := range dirs {
		if err := setTimes(root, hdr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	return nil
}

// entryPath turns a tar name into a path relative to the layer root,
// refusing any name that climbs out of it.
func entryPath(name string) (string, error) {
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q escapes the layer: %w", name, errdefs.ErrInvalidArgument)
		}
	}
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	if rel == "" {
		rel = "."
	}
	return rel, nil
}

func applyEntry(root *os.Root, tr io.Reader, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil // the layer root itself: its attributes come from the container's upper dir
	}
	parent, base := path.Dir(rel), path.Base(rel)
	if err := root.MkdirAll(parent, 0o755); err != nil {
		return escapeError(err)
	}
	if base == opaqueMarker {
		return setXattr(root, parent, ".", opaqueXattr, "y")
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		return whiteout(root, path.Join(parent, name))
	}
	if err := create(root, rel, tr, hdr); err != nil {
		return escapeError(err)
	}
	return setMetadata(root, rel, hdr)
}

// escapeError classifies os.Root's refusal to leave the root.
func escapeError(err error) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	return err
}

func create(root *os.Root, rel string, tr io.Reader, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeDir {
		if st, err := root.Lstat(rel); err == nil && st.IsDir() {
			return nil // a directory repeated (or created as a parent): keep its children
		}
	}
	if err := root.RemoveAll(rel); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return root.Mkdir(rel, 0o700)
	case tar.TypeReg, tar.TypeRegA:
		return writeFile(root, rel, tr)
	case tar.TypeSymlink:
		return root.Symlink(hdr.Linkname, rel)
	case tar.TypeLink:
		target, err := entryPath(hdr.Linkname)
		if err != nil {
			return err
		}
		return root.Link(target, rel)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return mknod(root, rel, hdr)
	default:
		return fmt.Errorf("unsupported tar entry type %q: %w", hdr.Typeflag, errdefs.ErrNotImplemented)
	}
}

func writeFile(root *os.Root, rel string, r io.Reader) error {
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

// inParent runs fn with a descriptor of rel's parent directory (opened
// through root, so inside the layer) and rel's base name.
func inParent(root *os.Root, rel string, fn func(dirfd int, base string) error) error {
	dir, err := root.Open(path.Dir(rel))
	if err != nil {
		return escapeError(err)
	}
	defer dir.Close()
	return fn(int(dir.Fd()), path.Base(rel))
}

func mknod(root *os.Root, rel string, hdr *tar.Header) error {
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	default:
		mode |= unix.S_IFIFO
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	return inParent(root, rel, func(fd int, base string) error {
		return unix.Mknodat(fd, base, mode, dev)
	})
}

// whiteout records the deletion of rel as an overlayfs whiteout.
func whiteout(root *os.Root, rel string) error {
	if err := root.RemoveAll(rel); err != nil {
		return escapeError(err)
	}
	return inParent(root, rel, func(fd int, base string) error {
		return unix.Mknodat(fd, base, unix.S_IFCHR, int(unix.Mkdev(0, 0)))
	})
}

func setMetadata(root *os.Root, rel string, hdr *tar.Header) error {
	err := inParent(root, rel, func(fd int, base string) error {
		if hdr.Typeflag == tar.TypeLink {
			return nil // a hardlink shares its target's inode: chown would clear its setuid bit
		}
		if err := unix.Fchownat(fd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
		if hdr.Typeflag == tar.TypeSymlink {
			return nil // a symlink has no mode of its own
		}
		// base was just created by us and is not a symlink, so fchmodat acts on it.
		if err := unix.Fchmodat(fd, base, uint32(hdr.FileInfo().Mode().Perm())|specialBits(hdr), 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for key, value := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, xattrPAXPrefix); ok {
			if err := setXattr(root, path.Dir(rel), path.Base(rel), attr, value); err != nil {
				return err
			}
		}
	}
	if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeLink {
		return nil // directories get their times at the end; hardlinks share their target's
	}
	return setTimes(root, hdr)
}

func specialBits(hdr *tar.Header) uint32 {
	var bits uint32
	if hdr.Mode&0o4000 != 0 {
		bits |= unix.S_ISUID
	}
	if hdr.Mode&0o2000 != 0 {
		bits |= unix.S_ISGID
	}
	if hdr.Mode&0o1000 != 0 {
		bits |= unix.S_ISVTX
	}
	return bits
}

// setXattr sets an extended attribute on dir/base without following a final symlink.
func setXattr(root *os.Root, dir, base, attr, value string) error {
	d, err := root.Open(dir)
	if err != nil {
		return escapeError(err)
	}
	defer d.Close()
	if base == "." {
		err = unix.Fsetxattr(int(d.Fd()), attr, []byte(value), 0)
	} else {
		// The final component is not followed: a symlink gets its own xattr.
		err = unix.Lsetxattr(fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), base), attr, []byte(value), 0)
	}
	if errors.Is(err, unix.ENOTSUP) && !strings.HasPrefix(attr, "trusted.") {
		return nil // the filesystem under root keeps no such attribute; nothing to preserve it in
	}
	if err != nil {
		return fmt.Errorf("setxattr %s: %w", attr, err)
	}
	return nil
}

func setTimes(root *os.Root, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Name)
	if err != nil || rel == "." {
		return err
	}
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	ts := []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
	return inParent(root, rel, func(fd int, base string) error {
		return unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
}

func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Sec: 0, Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(t.UnixNano())
}

// diskUsage counts the bytes (allocated blocks) and inodes under dir, each
// inode once however many links it has.
func diskUsage(dir string) (bytes, inodes int64, err error) {
	seen := map[uint64]bool{}
	err = fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path.Join(dir, p), &st); err != nil {
			return err
		}
		if seen[st.Ino] {
			return nil
		}
		seen[st.Ino] = true
		bytes += st.Blocks * 512
		inodes++
		return nil
	})
	return bytes, inodes, err
}
