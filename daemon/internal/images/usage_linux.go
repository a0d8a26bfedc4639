package images

import (
	"os"
	"syscall"
)

// blocksOf is the allocated size of a file.
func blocksOf(info os.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return info.Size()
}
