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
// opaque markers into the trusted.overlay.opaque xattr.
//
// Safety: every directory is opened through an os.Root, which refuses any
// path that leaves dir, through ".." or symlinks; every entry is then made
// with an *at system call on that directory's descriptor and a single path
// component that is never followed if it is a symlink. So no entry name,
// symlink or hardlink makes it read or write outside dir; an entry that tries
// is an InvalidArgument error.
func unpackLayer(ctx context.Context, r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	u := &unpacker{root: root, dirs: map[string]*parentDir{}, buf: make([]byte, 128<<10)}
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
		if err := u.apply(tr, hdr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	return u.fixDirTimes()
}

// unpacker holds the state of one layer's extraction; it is used by one goroutine.
type unpacker struct {
	root    *os.Root
	dirs    map[string]*parentDir // open directories by path relative to root
	dirHdrs []*tar.Header         // directories whose times are set last
	buf     []byte                // copy buffer for file contents
}

// parentDir is an open directory of the layer.
type parentDir struct {
	f      *os.File
	fd     int
	setgid bool // new entries inherit the directory's group
}

// forget closes the cached directories. It must be called whenever an entry
// removes a directory or symlink, which may be (or lead to) a cached one.
func (u *unpacker) forget() {
	for _, d := range u.dirs {
		d.f.Close()
	}
	clear(u.dirs)
}

// dir returns the open directory rel, creating it (and its parents) when create is set.
func (u *unpacker) dir(rel string, create bool) (*parentDir, error) {
	if d, ok := u.dirs[rel]; ok {
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
	u.dirs[rel] = d
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
	parent, err := u.dir(path.Dir(rel), true)
	if err != nil {
		return err
	}
	base := path.Base(rel)
	if base == opaqueMarker {
		return setXattr(parent.fd, ".", opaqueXattr, "y")
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		return u.whiteout(parent, path.Join(path.Dir(rel), name))
	}
	if err := u.create(parent, rel, r, hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		u.dirHdrs = append(u.dirHdrs, hdr)
	}
	return u.setMetadata(parent, path.Base(rel), hdr)
}

// escapeError classifies os.Root's refusal to leave the root.
func escapeError(err error) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	return err
}

// create makes the entry; an existing entry of the same name is replaced
// (a directory is kept when the entry is a directory too).
func (u *unpacker) create(parent *parentDir, rel string, r io.Reader, hdr *tar.Header) error {
	base := path.Base(rel)
	err := u.createOnce(parent, base, r, hdr)
	if !errors.Is(err, unix.EEXIST) {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(parent.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && hdr.Typeflag == tar.TypeDir {
		return nil // a directory repeated (or created as a parent): keep its children
	}
	if err := u.remove(parent, rel, st.Mode); err != nil {
		return err
	}
	if isDir || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		parent, err = u.dir(path.Dir(rel), true) // forget() closed it
		if err != nil {
			return err
		}
	}
	return u.createOnce(parent, base, r, hdr)
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
	case tar.TypeReg, tar.TypeRegA:
		return u.writeFile(parent.fd, base, r)
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

func (u *unpacker) writeFile(dirfd int, base string, r io.Reader) error {
	fd, err := unix.Openat(dirfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	if _, err := io.CopyBuffer(struct{ io.Writer }{f}, r, u.buf); err != nil {
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

func (u *unpacker) setMetadata(parent *parentDir, base string, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeLink {
		return nil // a hardlink shares its target's inode: chown would clear its setuid bit
	}
	// New entries are root's (and the parent's group when it is setgid): skip a chown that changes nothing.
	if hdr.Uid != 0 || hdr.Gid != 0 || parent.setgid {
		if err := unix.Fchownat(parent.fd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if hdr.Typeflag != tar.TypeSymlink { // a symlink has no mode of its own
		// base was just created by us and is not a symlink, so fchmodat acts on it.
		if err := unix.Fchmodat(parent.fd, base, uint32(hdr.FileInfo().Mode().Perm())|specialBits(hdr), 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	for key, value := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, xattrPAXPrefix); ok {
			if err := setXattr(parent.fd, base, attr, value); err != nil {
				return err
			}
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil // directories get their times at the end
	}
	return unix.UtimesNanoAt(parent.fd, base, times(hdr), unix.AT_SYMLINK_NOFOLLOW)
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

// setXattr sets an extended attribute on base in the directory dirfd ("."
// for the directory itself), never following a final symlink.
func setXattr(dirfd int, base, attr, value string) error {
	var err error
	if base == "." {
		err = unix.Fsetxattr(dirfd, attr, []byte(value), 0)
	} else {
		err = unix.Lsetxattr(fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, base), attr, []byte(value), 0)
	}
	if errors.Is(err, unix.ENOTSUP) && !strings.HasPrefix(attr, "trusted.") {
		return nil // the filesystem under root keeps no such attribute; nothing to preserve it in
	}
	if err != nil {
		return fmt.Errorf("setxattr %s: %w", attr, err)
	}
	return nil
}

// fixDirTimes sets directory times after their children were created.
func (u *unpacker) fixDirTimes() error {
	u.forget() // entries may have replaced directories since they were cached
	for _, hdr := range u.dirHdrs {
		rel, _ := entryPath(hdr.Name)
		parent, err := u.dir(path.Dir(rel), false)
		if err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
		if err := unix.UtimesNanoAt(parent.fd, path.Base(rel), times(hdr), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	return nil
}

func times(hdr *tar.Header) []unix.Timespec {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	return []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
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
