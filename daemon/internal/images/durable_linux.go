package images

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncHook, set only by tests, is told of every sync just before it happens.
var syncHook func(kind, path string)

func noteSync(kind, path string) {
	if syncHook != nil {
		syncHook(kind, path)
	}
}

// syncDir makes the entries of dir (a rename into it) durable.
func syncDir(dir string) error {
	noteSync("dir", dir)
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// syncTree makes everything written below dir durable. One syncfs(2) of
// the filesystem holding dir costs far less than an fsync per file of a
// layer with many thousand entries, and covers the directories too.
func syncTree(dir string) error {
	noteSync("tree", dir)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
