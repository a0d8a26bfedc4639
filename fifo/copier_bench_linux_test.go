package fifo

import (
	"context"
	"os"
	"testing"
)

// discard is a destination that drops everything.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }

// BenchmarkCopierPipe measures the copy loop: 32 KiB writes into a pipe,
// drained after each, to a destination that drops them.
func BenchmarkCopierPipe(b *testing.B) {
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	c, err := NewCopier(discard{}, pr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Start(context.Background())
	chunk := make([]byte, copyBufferSize)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := pw.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Drain(context.Background()); err != nil {
		b.Fatal(err)
	}
}
