package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"strings"
)

// sparseBlock is the granularity at which zeros of a sparse entry become holes.
const sparseBlock = 4096

// isSparse tells a tar entry that was written sparse (old GNU or PAX GNU.sparse).
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// copySparse writes r to f leaving every all-zero block a hole, so a sparse
// entry's holes (which the tar reader yields as zeros) cost no disk.
func copySparse(f *os.File, r io.Reader, buf []byte) error {
	var off int64
	zero := make([]byte, sparseBlock)
	for {
		n, err := io.ReadFull(r, buf)
		for i := 0; i < n; i += sparseBlock {
			block := buf[i:min(i+sparseBlock, n)]
			if !bytes.Equal(block, zero[:len(block)]) {
				if _, werr := f.WriteAt(block, off); werr != nil {
					return werr
				}
			}
			off += int64(len(block))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return f.Truncate(off)
		}
		if err != nil {
			return err
		}
	}
}
