package images

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// diskUsage counts the bytes (allocated blocks) and inodes under dir, dir
// included, each inode once however many links it has. It reads
// directories in batches and remembers only inodes with several links, so
// its memory does not grow with the number of entries.
func diskUsage(dir string) (bytes, inodes int64, err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("measure %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return 0, 0, err
	}
	u := &usage{bytes: st.Blocks * 512, inodes: 1, linked: map[uint64]bool{}}
	err = u.walk(fd, dir)
	return u.bytes, u.inodes, err
}

type usage struct {
	bytes, inodes int64
	linked        map[uint64]bool // inodes with more than one link already counted
}

// walk counts the entries of the open directory fd (closed on return).
func (u *usage) walk(fd int, name string) error {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	for {
		entries, err := f.ReadDir(1024)
		for _, e := range entries {
			if err := u.count(fd, name, e.Name()); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("measure %s: %w", name, err)
		}
	}
}

func (u *usage) count(dirfd int, dir, base string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("measure %s/%s: %w", dir, base, err)
	}
	if st.Nlink > 1 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if u.linked[st.Ino] {
			return nil
		}
		u.linked[st.Ino] = true
	}
	u.bytes += st.Blocks * 512
	u.inodes++
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("measure %s/%s: %w", dir, base, err)
	}
	return u.walk(fd, dir+"/"+base)
}
