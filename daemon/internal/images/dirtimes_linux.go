package images

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// dirTimeLog keeps the times of a layer's directories, set once the layer
// is unpacked, in an unlinked scratch file: memory does not grow with the
// number of directories a layer has.
type dirTimeLog struct {
	f *os.File
	w *bufio.Writer
}

// dirTimeRecord is the fixed part of a record: atime and mtime (seconds,
// nanoseconds), then the length of the path that follows.
const dirTimeRecord = 4*8 + 4

func newDirTimeLog(scratch string) (*dirTimeLog, error) {
	f, err := os.CreateTemp(scratch, "dirtimes-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // gone with the descriptor, whatever happens next
	return &dirTimeLog{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (l *dirTimeLog) add(rel string, ts []unix.Timespec) error {
	var rec [dirTimeRecord]byte
	for i, v := range []int64{ts[0].Sec, ts[0].Nsec, ts[1].Sec, ts[1].Nsec} {
		binary.LittleEndian.PutUint64(rec[i*8:], uint64(v))
	}
	binary.LittleEndian.PutUint32(rec[32:], uint32(len(rel)))
	if _, err := l.w.Write(rec[:]); err != nil {
		return fmt.Errorf("directory times: %w", err)
	}
	if _, err := l.w.WriteString(rel); err != nil {
		return fmt.Errorf("directory times: %w", err)
	}
	return nil
}

// each calls fn for every record, in the order they were added.
func (l *dirTimeLog) each(fn func(rel string, ts []unix.Timespec) error) error {
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("directory times: %w", err)
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(l.f, 64<<10)
	var rec [dirTimeRecord]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("directory times: %w", err)
		}
		v := func(i int) int64 { return int64(binary.LittleEndian.Uint64(rec[i*8:])) }
		ts := []unix.Timespec{{Sec: v(0), Nsec: v(1)}, {Sec: v(2), Nsec: v(3)}}
		name := make([]byte, binary.LittleEndian.Uint32(rec[32:]))
		if _, err := io.ReadFull(r, name); err != nil {
			return fmt.Errorf("directory times: %w", err)
		}
		if err := fn(string(name), ts); err != nil {
			return err
		}
	}
}

func (l *dirTimeLog) close() { l.f.Close() }
