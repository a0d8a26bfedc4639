package images

import (
	"archive/tar"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

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
	return u.dirTimes.each(func(rel string, ts []unix.Timespec) error {
		parent, err := u.dir(path.Dir(rel), false)
		if err != nil {
			return fmt.Errorf("layer entry %q: %w", rel, err)
		}
		if err := unix.UtimesNanoAt(parent.fd, path.Base(rel), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("layer entry %q: %w", rel, err)
		}
		return nil
	})
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
