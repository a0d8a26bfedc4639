package fifo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// Stream names an output stream in a CRI log record.
type Stream string

// The streams of the CRI log format.
const (
	StreamStdout Stream = "stdout"
	StreamStderr Stream = "stderr"
)

// MaxLineSize is the most content one CRI log record carries; longer lines
// are split into partial records, as the kubelet expects.
const MaxLineSize = 16 * 1024

// Record tags: a full line, or a partial one continued by the next record of
// the same stream.
const (
	tagFull    = 'F'
	tagPartial = 'P'
)

// recordOverhead bounds the bytes a record adds around its content.
const recordOverhead = len("2006-01-02T15:04:05.999999999-07:00 stdout F \n")

// outBufferSize is how many bytes of records one write(2) carries at most:
// a copier's 32 KiB read becomes one write, whatever its number of lines.
const outBufferSize = 64 * 1024

// LogWriter writes container output to a file in the kubelet CRI log format:
// "RFC3339Nano-TIMESTAMP STREAM TAG CONTENT\n". Streams obtained from
// [LogWriter.Stream] share the file. The records made from one Write are
// written together with one write(2) before Write returns, so records are
// never torn nor interleaved, and nothing waits in memory between writes.
//
// A failed write to the file drops the record rather than failing the
// stream, so a full disk never blocks or stops a container (containerd's
// CRI does the same); [LogWriter.Err] reports the first such failure.
type LogWriter struct {
	dir, rel string // the file is rel beneath dir, at every open
	now      func() time.Time

	mu      sync.Mutex
	f       *os.File     // guarded by mu; nil once closed
	out     []byte       // guarded by mu; records queued for one write, reused
	err     error        // guarded by mu; first write failure since open or reopen
	streams []*logStream // guarded by mu; streams not yet closed
}

// OpenLog opens (creating 0640, appending) the CRI log file at path; a
// symlink as the last component is refused. [OpenLogIn] confines the
// whole path to the pod's log directory.
func OpenLog(path string) (*LogWriter, error) {
	return OpenLogIn(filepath.Dir(path), filepath.Base(path))
}

// OpenLogIn opens (creating 0640, appending) the CRI log file rel inside
// dir, the pod's log directory. This open and every [LogWriter.Reopen]
// resolve rel beneath dir in one step and refuse any symlink on the way
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS): InvalidArgument.
func OpenLogIn(dir, rel string) (*LogWriter, error) {
	f, err := openLogFile(dir, rel)
	if err != nil {
		return nil, err
	}
	return &LogWriter{
		dir: dir, rel: rel,
		now: time.Now,
		f:   f,
		out: make([]byte, 0, outBufferSize),
	}, nil
}

// Stream returns a writer whose bytes become records of stream s. Lines
// ending in "\n" or "\r\n" become F records without the line ending; lines
// over [MaxLineSize] are split into P records of exactly MaxLineSize bytes
// and a final F. Close writes a trailing unterminated line as P. The writer
// also has a Flush() error method, which [Copier.Drain] calls, that writes
// the unterminated line held back as P (a "\r\n" cut by it keeps its '\r').
// A stream is safe for concurrent use; write each stream from one copier so
// that its lines stay in order.
func (w *LogWriter) Stream(s Stream) io.WriteCloser {
	st := &logStream{w: w, name: s}
	w.mu.Lock()
	w.streams = append(w.streams, st)
	w.mu.Unlock()
	return st
}

// Reopen closes the file and opens path again, for log rotation (CRI
// ReopenContainerLog): the kubelet renames the file, then asks for a new
// one. The new file is opened before the old one is closed, under the lock
// every record takes, so no record is lost or split between files. On
// failure the writer keeps writing to the old file.
func (w *LogWriter) Reopen() error {
	f, err := openLogFile(w.dir, w.rel)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		_ = f.Close()
		return w.closedError()
	}
	old := w.f
	w.f, w.err = f, nil
	if err := old.Close(); err != nil {
		return wrapOS("close rotated log", err)
	}
	return nil
}

// Err returns the first write failure since the file was opened or
// reopened, or nil.
func (w *LogWriter) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close writes the unterminated lines of open streams as P records and
// closes the file. Later writes fail with errdefs.ErrFailedPrecondition.
func (w *LogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	for _, s := range w.streams {
		s.flushPartial()
		s.closed = true
	}
	w.streams = nil
	w.flush()
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return wrapOS("close log", err)
	}
	return nil
}

// closedError is the error for a write after Close.
func (w *LogWriter) closedError() error {
	return fmt.Errorf("cri log %s: %w: %w", filepath.Join(w.dir, w.rel), os.ErrClosed, errdefs.ErrFailedPrecondition)
}

// record queues one record in w.out, writing the queue first when the
// record would not fit. The caller holds w.mu and calls flush before
// releasing it.
func (w *LogWriter) record(s Stream, tag byte, content []byte) {
	if len(w.out)+len(content)+recordOverhead > cap(w.out) {
		w.flush()
	}
	r := w.now().AppendFormat(w.out, time.RFC3339Nano)
	r = append(r, ' ')
	r = append(r, s...)
	r = append(r, ' ', tag, ' ')
	r = append(r, content...)
	w.out = append(r, '\n')
}

// flush writes the queued records with one write(2), so they land whole and
// in order. The caller holds w.mu.
func (w *LogWriter) flush() {
	if len(w.out) == 0 {
		return
	}
	if _, err := w.f.Write(w.out); err != nil && w.err == nil {
		w.err = wrapOS("write cri log "+filepath.Join(w.dir, w.rel), err)
	}
	w.out = w.out[:0]
}

// forget drops a closed stream from w.streams. The caller holds w.mu.
func (w *LogWriter) forget(s *logStream) {
	for i, o := range w.streams {
		if o == s {
			w.streams = append(w.streams[:i], w.streams[i+1:]...)
			return
		}
	}
}
