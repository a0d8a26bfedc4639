package fifo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

// fixedTime is the clock of tests that compare exact bytes.
var fixedTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

const fixedStamp = "2024-05-06T07:08:09.123456789Z"

// openTestLog opens a log in a temporary dir, closed at cleanup.
func openTestLog(t testing.TB) (*LogWriter, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return fixedTime }
	t.Cleanup(func() { _ = w.Close() })
	return w, path
}

// record is a parsed record, comparable in tests.
type record struct {
	stream  Stream
	partial bool
	content string
}

// readRecords parses every record in the file at path.
func readRecords(t *testing.T, path string) []record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	for _, line := range bytes.SplitAfter(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		e, err := ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, record{e.Stream, e.Partial, string(e.Content)})
	}
	return out
}

func mustWrite(t testing.TB, w interface{ Write([]byte) (int, error) }, p []byte) {
	t.Helper()
	if n, err := w.Write(p); err != nil || n != len(p) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
	}
}

func TestLogWriterWritesExactKubeletRecords(t *testing.T) {
	w, path := openTestLog(t)
	out, errs := w.Stream(StreamStdout), w.Stream(StreamStderr)
	mustWrite(t, out, []byte("hello\nwor"))
	mustWrite(t, errs, []byte("oops\r\n"))
	mustWrite(t, out, []byte("ld\n\n"))
	mustWrite(t, out, []byte("tail"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := fixedStamp + " stdout F hello\n" +
		fixedStamp + " stderr F oops\n" +
		fixedStamp + " stdout F world\n" +
		fixedStamp + " stdout F \n" +
		fixedStamp + " stdout P tail\n"
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("log =\n%q\nwant\n%q", got, want)
	}
}

func TestLogWriterCreatesTheFileWithMode0640(t *testing.T) {
	_, path := openTestLog(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v, want 0640 (umask 022 assumed)", fi.Mode().Perm())
	}
}

func TestLogWriterSplitsLongLinesAt16KiB(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	full := func(s string) record { return record{StreamStdout, false, s} }
	part := func(s string) record { return record{StreamStdout, true, s} }
	cases := []struct {
		name  string
		input string
		want  []record
	}{
		{"exactly 16384", x(16384) + "\n", []record{full(x(16384))}},
		{"16385", x(16385) + "\n", []record{part(x(16384)), full("x")}},
		{"40000", x(40000) + "\n", []record{part(x(16384)), part(x(16384)), full(x(40000 - 32768))}},
		{"exactly 32768", x(32768) + "\n", []record{part(x(16384)), full(x(16384))}},
		{"empty lines", "\n\n", []record{full(""), full("")}},
		{"crlf", "a\r\n\r\n", []record{full("a"), full("")}},
		{"16384 then crlf", x(16384) + "\r\n", []record{full(x(16384))}},
		{"16384 then cr inside", x(16384) + "\ry\n", []record{part(x(16384)), full("\ry")}},
		{"lone cr kept", "a\rb\n", []record{full("a\rb")}},
		{"unterminated 16385", x(16385), []record{part(x(16384)), part("x")}},
		{"unterminated 16384 cr", x(16384) + "\r", []record{part(x(16384)), part("\r")}},
		{"unterminated short", "abc", []record{part("abc")}},
	}
	chunkings := map[string]int{"whole": 1 << 20, "7-byte": 7, "16383-byte": 16383, "byte": 1}
	for _, c := range cases {
		for chunking, size := range chunkings {
			t.Run(c.name+"/"+chunking, func(t *testing.T) {
				w, path := openTestLog(t)
				s := w.Stream(StreamStdout)
				for in := []byte(c.input); len(in) > 0; {
					n := min(size, len(in))
					mustWrite(t, s, in[:n])
					in = in[n:]
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				assertRecords(t, readRecords(t, path), c.want)
			})
		}
	}
}

func assertRecords(t *testing.T, got, want []record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %s", len(got), len(want), describe(got))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d = %s, want %s", i, describe(got[i:i+1]), describe(want[i:i+1]))
		}
	}
}

// describe summarises records without printing 16 KiB of content.
func describe(rs []record) string {
	var b strings.Builder
	for _, r := range rs {
		c := r.content
		if len(c) > 12 {
			c = fmt.Sprintf("%q...(%d bytes)", c[:12], len(c))
		} else {
			c = fmt.Sprintf("%q", c)
		}
		fmt.Fprintf(&b, "[%s partial=%v %s] ", r.stream, r.partial, c)
	}
	return b.String()
}

// lineOf returns line i of a stream: varying lengths, some over 16 KiB.
func lineOf(stream Stream, i int) string {
	n := (i * 7919) % (3 * MaxLineSize)
	head := fmt.Sprintf("%s-%d:", stream, i)
	return head + strings.Repeat(string(rune('a'+i%26)), n)
}

// joinLines rebuilds each stream's lines from records.
func joinLines(t *testing.T, rs []record) map[Stream][]string {
	t.Helper()
	lines := map[Stream][]string{}
	cur := map[Stream]*strings.Builder{StreamStdout: {}, StreamStderr: {}}
	for _, r := range rs {
		cur[r.stream].WriteString(r.content)
		if !r.partial {
			lines[r.stream] = append(lines[r.stream], cur[r.stream].String())
			cur[r.stream].Reset()
		}
	}
	return lines
}

func TestLogWriterConcurrentStreamsNeverTearRecords(t *testing.T) {
	w, path := openTestLog(t)
	const perStream = 300
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, name := range []Stream{StreamStdout, StreamStderr} {
		s := w.Stream(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perStream {
				// Uneven writes: a line's bytes split across Write calls.
				line := []byte(lineOf(name, i) + "\n")
				half := len(line) / 3
				for _, part := range [][]byte{line[:half], line[half:]} {
					if _, err := s.Write(part); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := joinLines(t, readRecords(t, path))
	for _, name := range []Stream{StreamStdout, StreamStderr} {
		if len(got[name]) != perStream {
			t.Fatalf("%s: %d lines, want %d", name, len(got[name]), perStream)
		}
		for i, line := range got[name] {
			if line != lineOf(name, i) {
				t.Fatalf("%s line %d differs (len %d, want %d)", name, i, len(line), len(lineOf(name, i)))
			}
		}
	}
}

func TestLogWriterReopenAfterRenameWritesToTheNewFile(t *testing.T) {
	w, path := openTestLog(t)
	s := w.Stream(StreamStdout)
	mustWrite(t, s, []byte("before\n"))
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, []byte("after\n"))
	assertRecords(t, readRecords(t, rotated), []record{{StreamStdout, false, "before"}})
	assertRecords(t, readRecords(t, path), []record{{StreamStdout, false, "after"}})
}

func TestLogWriterReopenUnderConcurrentWritesLosesNoRecord(t *testing.T) {
	w, path := openTestLog(t)
	s := w.Stream(StreamStderr)
	const lines = 2000
	done := make(chan error, 1)
	go func() {
		for i := range lines {
			if _, err := fmt.Fprintf(s, "line %d\n", i); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var rotated []string
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			var all []record
			for _, f := range append(rotated, path) {
				all = append(all, readRecords(t, f)...)
			}
			if len(all) != lines {
				t.Fatalf("%d records across %d files, want %d", len(all), len(rotated)+1, lines)
			}
			for i, r := range all {
				if r.content != fmt.Sprintf("line %d", i) {
					t.Fatalf("record %d = %q", i, r.content)
				}
			}
			return
		default:
		}
		name := fmt.Sprintf("%s.%d", path, i)
		if err := os.Rename(path, name); err != nil {
			t.Fatal(err)
		}
		rotated = append(rotated, name)
		if err := w.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLogWriterWriteAfterCloseFailsWithFailedPrecondition(t *testing.T) {
	w, _ := openTestLog(t)
	s := w.Stream(StreamStdout)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("x\n")); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Write after Close = %v, want FailedPrecondition", err)
	}
	if err := w.Reopen(); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Reopen after Close = %v, want FailedPrecondition", err)
	}
}

func TestLogWriterCloseFlushesOpenStreamsPartialLines(t *testing.T) {
	w, path := openTestLog(t)
	mustWrite(t, w.Stream(StreamStdout), []byte("no newline"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	assertRecords(t, readRecords(t, path), []record{{StreamStdout, true, "no newline"}})
}

func TestOpenLogRefusesASymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if w, err := OpenLog(link); err == nil {
		_ = w.Close()
		t.Fatal("OpenLog followed a symlink")
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("symlink target was created (stat err %v)", err)
	}
}
