package fifo

import (
	"bytes"
	"testing"
)

// benchmarkLogWriter writes chunk repeatedly to one stream.
func benchmarkLogWriter(b *testing.B, chunk []byte) {
	w, _ := openTestLog(b)
	s := w.Stream(StreamStdout)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogWriterShortLines: 32 KiB copier buffers full of 80-byte lines.
func BenchmarkLogWriterShortLines(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 79), '\n')
	benchmarkLogWriter(b, bytes.Repeat(line, 32*1024/len(line)))
}

// BenchmarkLogWriterLongLine: one 40000-byte line per write, split in P records.
func BenchmarkLogWriterLongLine(b *testing.B) {
	benchmarkLogWriter(b, append(bytes.Repeat([]byte("y"), 40000), '\n'))
}

// BenchmarkLogWriterOneByteWrites: the worst case, unbuffered output.
func BenchmarkLogWriterOneByteWrites(b *testing.B) {
	benchmarkLogWriter(b, []byte("z"))
}
