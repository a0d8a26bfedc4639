package images

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDiskUsageCountsEveryInodeOnceAndHardlinksOnce(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a/b/c"), 0o755)
	os.WriteFile(filepath.Join(dir, "a/file"), make([]byte, 10000), 0o644)
	os.Link(filepath.Join(dir, "a/file"), filepath.Join(dir, "a/b/link"))
	os.Symlink("file", filepath.Join(dir, "a/sym"))
	for i := range 3000 { // more than one ReadDir batch
		os.WriteFile(filepath.Join(dir, "a/b/c", string(rune('A'+i%26))+string(rune('a'+i/26%26))+string(rune('0'+i/676))), nil, 0o644)
	}
	var wantBytes, wantInodes int64
	seen := map[uint64]bool{}
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		var st unix.Stat_t
		if err == nil && unix.Lstat(p, &st) == nil && !seen[st.Ino] {
			seen[st.Ino] = true
			wantBytes += st.Blocks * 512
			wantInodes++
		}
		return err
	})
	bytes, inodes, err := diskUsage(dir)
	if err != nil || bytes != wantBytes || inodes != wantInodes {
		t.Fatalf("diskUsage = %d bytes %d inodes %v; want %d %d", bytes, inodes, err, wantBytes, wantInodes)
	}
}
