package images

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/runlet/runlet/daemon/internal/config"
)

// Overlay whiteout conventions of the OCI image layer format.
const (
	whiteoutPrefix = ".wh."
	metaPrefix     = ".wh..wh." // aufs metadata (".wh..wh..plnk", ...), not part of the filesystem
	opaqueMarker   = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
	xattrPAXPrefix = "SCHILY.xattr."
)

// unpackLayer extracts the uncompressed layer tar r into the empty directory
// dir, turning whiteouts into overlayfs whiteouts (0:0 character devices) and
// opaque markers into the trusted.overlay.opaque xattr.
//
// Safety: every directory is opened through an os.Root, which refuses any
// path that leaves dir, through ".." or symlinks; every entry is then made
// with an *at system call on that directory's descriptor and a single path
// component that is never followed if it is a symlink. So no entry name,
// symlink or hardlink makes it read or write outside dir; an entry that tries
// is an InvalidArgument error.
//
// Bounds: at most maxOpenDirs directories are open at once, the layer may
// hold at most limits.MaxLayerEntries entries, and its files' sizes (sparse
// holes included, checked from each header before anything is written) at
// most limits.MaxLayerUnpackedBytes; beyond either it is FailedPrecondition.
func unpackLayer(ctx context.Context, r io.Reader, dir string, limits config.ImageLimits) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	times, err := newDirTimeLog(filepath.Dir(dir))
	if err != nil {
		return err
	}
	defer times.close()
	u := &unpacker{root: root, dirs: newDirCache(maxOpenDirs), dirTimes: times, buf: make([]byte, 128<<10), limits: limits}
	defer u.forget()
	tr := tar.NewReader(r)
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
		if err := u.count(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // pax global headers carry no file; ignored, as containerd does
		}
		if err := u.apply(tr, hdr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	return u.fixDirTimes()
}

// unpacker holds the state of one layer's extraction; it is used by one goroutine.
type unpacker struct {
	root     *os.Root
	dirs     *dirCache   // recently used open directories by path relative to root
	dirTimes *dirTimeLog // directories whose times are set last
	buf      []byte      // copy buffer for file contents
	limits   config.ImageLimits
	entries  int64 // headers read so far
	size     int64 // file sizes declared so far
}

// count charges hdr to the layer's entry and size budgets.
func (u *unpacker) count(hdr *tar.Header) error {
	u.entries++
	if u.entries > u.limits.MaxLayerEntries {
		return fmt.Errorf("layer has more than %d entries (images.max_layer_entries): %w",
			u.limits.MaxLayerEntries, errdefs.ErrFailedPrecondition)
	}
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA || hdr.Typeflag == tar.TypeGNUSparse {
		if hdr.Size < 0 || hdr.Size > u.limits.MaxLayerUnpackedBytes-u.size {
			return fmt.Errorf("layer entry %q of %d bytes takes the layer's files over %d bytes (images.max_layer_unpacked_bytes): %w",
				hdr.Name, hdr.Size, u.limits.MaxLayerUnpackedBytes, errdefs.ErrFailedPrecondition)
		}
		u.size += hdr.Size
	}
	return nil
}

// parentDir is an open directory of the layer.
type parentDir struct {
	f      *os.File
	fd     int
	setgid bool // new entries inherit the directory's group
}

// forget closes the cached directories. It must be called whenever an entry
// removes a directory or symlink, which may be (or lead to) a cached one.
func (u *unpacker) forget() { u.dirs.clear() }

// dir returns the open directory rel, creating it (and its parents) when create is set.
func (u *unpacker) dir(rel string, create bool) (*parentDir, error) {
	if d, ok := u.dirs.get(rel); ok {
		return d, nil
	}
	if create {
		if err := u.root.MkdirAll(rel, 0o755); err != nil {
			return nil, escapeError(err)
		}
	}
	f, err := u.root.Open(rel)
	if err != nil {
		return nil, escapeError(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		f.Close()
		return nil, fmt.Errorf("%s is not a directory: %w", rel, errdefs.ErrInvalidArgument)
	}
	d := &parentDir{f: f, fd: int(f.Fd()), setgid: st.Mode&unix.S_ISGID != 0}
	u.dirs.put(rel, d)
	return d, nil
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

func (u *unpacker) apply(r io.Reader, hdr *tar.Header) error {
	rel, err := entryPath(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil // the layer root itself: its attributes come from the container's upper dir
	}
	if isAufsMeta(rel) {
		return nil
	}
	parent, err := u.dir(path.Dir(rel), true)
	if err != nil {
		return err
	}
	base := path.Base(rel)
	if base == opaqueMarker {
		return setXattr(parent.fd, ".", opaqueXattr, "y")
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if name == "" || name == "." || name == ".." {
			return fmt.Errorf("whiteout %q names no file: %w", base, errdefs.ErrInvalidArgument)
		}
		return u.whiteout(parent, path.Join(path.Dir(rel), name))
	}
	if parent, err = u.create(parent, rel, r, hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		if err := u.dirTimes.add(rel, times(hdr)); err != nil {
			return err
		}
	}
	return u.setMetadata(parent, path.Base(rel), hdr)
}

// isAufsMeta tells aufs bookkeeping (".wh..wh..plnk" and what is under
// it), which is not part of the image's filesystem. The opaque marker is not.
func isAufsMeta(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, metaPrefix) && part != opaqueMarker {
			return true
		}
	}
	return false
}

// escapeError classifies os.Root's refusal to leave the root.
func escapeError(err error) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	return err
}

// create makes the entry; an existing entry of the same name is replaced
// (a directory is kept when the entry is a directory too). It returns the
// parent directory, opened again when the replacement closed it.
func (u *unpacker) create(parent *parentDir, rel string, r io.Reader, hdr *tar.Header) (*parentDir, error) {
	base := path.Base(rel)
	err := u.createOnce(parent, base, r, hdr)
	if !errors.Is(err, unix.EEXIST) {
		return parent, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(parent.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return parent, err
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && hdr.Typeflag == tar.TypeDir {
		return parent, nil // a directory repeated (or created as a parent): keep its children
	}
	if err := u.remove(parent, rel, st.Mode); err != nil {
		return parent, err
	}
	if isDir || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		parent, err = u.dir(path.Dir(rel), true) // forget() closed it
		if err != nil {
			return nil, err
		}
	}
	return parent, u.createOnce(parent, base, r, hdr)
}

// remove deletes rel (whose lstat mode is mode) and forgets cached
// directories when it was one, or a symlink that may have led to one.
func (u *unpacker) remove(parent *parentDir, rel string, mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		u.forget()
		return escapeError(u.root.RemoveAll(rel))
	case unix.S_IFLNK:
		err := unix.Unlinkat(parent.fd, path.Base(rel), 0)
		u.forget()
		return err
	default:
		return unix.Unlinkat(parent.fd, path.Base(rel), 0)
	}
}

func (u *unpacker) createOnce(parent *parentDir, base string, r io.Reader, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return unix.Mkdirat(parent.fd, base, 0o700)
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse: // the tar reader fills a sparse file's holes with zeros
		return u.writeFile(parent.fd, base, r, isSparse(hdr))
	case tar.TypeSymlink:
		return unix.Symlinkat(hdr.Linkname, parent.fd, base)
	case tar.TypeLink:
		return u.hardlink(parent.fd, base, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return unix.Mknodat(parent.fd, base, nodeMode(hdr), int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))))
	default:
		return fmt.Errorf("unsupported tar entry type %q: %w", hdr.Typeflag, errdefs.ErrNotImplemented)
	}
}

func (u *unpacker) writeFile(dirfd int, base string, r io.Reader, sparse bool) error {
	fd, err := unix.Openat(dirfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	if sparse {
		err = copySparse(f, r, u.buf)
	} else {
		_, err = io.CopyBuffer(struct{ io.Writer }{f}, r, u.buf)
	}
	if err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hardlink links base to target, a path inside the layer; a target that is
// a symlink is linked itself, never followed.
func (u *unpacker) hardlink(dirfd int, base, linkname string) error {
	target, err := entryPath(linkname)
	if err != nil {
		return err
	}
	tdir, err := u.dir(path.Dir(target), false)
	if err != nil {
		return err
	}
	return unix.Linkat(tdir.fd, path.Base(target), dirfd, base, 0)
}

func nodeMode(hdr *tar.Header) uint32 {
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeChar:
		return mode | unix.S_IFCHR
	case tar.TypeBlock:
		return mode | unix.S_IFBLK
	default:
		return mode | unix.S_IFIFO
	}
}

// whiteout records the deletion of rel as an overlayfs whiteout.
func (u *unpacker) whiteout(parent *parentDir, rel string) error {
	base := path.Base(rel)
	var st unix.Stat_t
	if err := unix.Fstatat(parent.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		if err := u.remove(parent, rel, st.Mode); err != nil {
			return err
		}
		if parent, err = u.dir(path.Dir(rel), true); err != nil {
			return err
		}
	}
	return unix.Mknodat(parent.fd, base, unix.S_IFCHR, 0)
}
