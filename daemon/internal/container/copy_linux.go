package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// copyTree copies the directory tree src into the existing directory dst,
// as containerd fills a volume from its image: file contents, modes
// (setuid and sticky bits too), owners, times, symlinks, hard links,
// device nodes and FIFOs, and extended attributes but security.selinux.
// Sockets are skipped. dst itself takes src's owner, mode and times.
func copyTree(dst, src string) error {
	type inode struct{ dev, ino uint64 }
	linked := map[inode]string{}
	var dirs []string // copied directories, parents first
	err := filepath.WalkDir(src, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1 {
			key := inode{st.Dev, st.Ino}
			if first, ok := linked[key]; ok {
				return os.Link(first, target)
			}
			linked[key] = target
		}
		made, err := copyNode(target, p, rel == ".", &st)
		if err != nil || !made {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			dirs = append(dirs, target)
		}
		return copyMeta(target, p, &st)
	})
	if err != nil {
		return err
	}
	// A directory's times change as its entries are made: set them last,
	// children first.
	for i := len(dirs) - 1; i >= 0; i-- {
		rel, _ := filepath.Rel(dst, dirs[i])
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(src, rel), &st); err != nil {
			return err
		}
		if err := setTimes(dirs[i], &st); err != nil {
			return err
		}
	}
	return nil
}

// copyNode makes target like src (without its metadata) and says whether
// it made anything.
func copyNode(target, src string, isRoot bool, st *unix.Stat_t) (bool, error) {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if isRoot {
			return true, nil
		}
		return true, os.Mkdir(target, 0o700)
	case unix.S_IFREG:
		return true, copyFile(target, src)
	case unix.S_IFLNK:
		link, err := os.Readlink(src)
		if err != nil {
			return false, err
		}
		return true, os.Symlink(link, target)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknod(target, st.Mode, int(st.Rdev)); err != nil {
			return false, &os.PathError{Op: "mknod", Path: target, Err: err}
		}
		return true, nil
	}
	return false, nil // a socket: nothing to copy
}

func copyFile(target, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// copyMeta gives target src's owner, mode (after the owner: chown clears
// setuid), extended attributes and times.
func copyMeta(target, src string, st *unix.Stat_t) error {
	if err := unix.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
		return &os.PathError{Op: "lchown", Path: target, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(target, st.Mode&0o7777); err != nil {
			return &os.PathError{Op: "chmod", Path: target, Err: err}
		}
	}
	if err := copyXattrs(target, src); err != nil {
		return err
	}
	return setTimes(target, st)
}

func setTimes(target string, st *unix.Stat_t) error {
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimes", Path: target, Err: err}
	}
	return nil
}

// copyXattrs copies src's extended attributes but security.selinux (the
// volume is relabelled for its container, if at all). A filesystem
// without xattrs on either side is not an error.
func copyXattrs(target, src string) error {
	names, err := listXattrs(src)
	if err != nil {
		return err
	}
	for _, name := range names {
		if name == "security.selinux" {
			continue
		}
		val, err := getXattr(src, name)
		if err != nil {
			return err
		}
		if err := unix.Lsetxattr(target, name, val, 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return &os.PathError{Op: "setxattr " + name, Path: target, Err: err}
		}
	}
	return nil
}

func listXattrs(p string) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Llistxattr(p, buf)
		switch {
		case errors.Is(err, unix.ERANGE):
			buf = make([]byte, 2*len(buf))
			continue
		case errors.Is(err, unix.ENOTSUP):
			return nil, nil
		case err != nil:
			return nil, &os.PathError{Op: "listxattr", Path: p, Err: err}
		}
		var names []string
		for _, name := range strings.Split(string(buf[:n]), "\x00") {
			if name != "" {
				names = append(names, name)
			}
		}
		return names, nil
	}
}

func getXattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(p, name, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getxattr " + name, Path: p, Err: err}
		}
		return buf[:n], nil
	}
}
