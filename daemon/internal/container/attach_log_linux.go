package container

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/runlet/runlet/fifo"
)

// logPoll is how often an output-only attach looks for new log records.
const logPoll = 100 * time.Millisecond

// followLog streams what the container writes from now on, read back from
// its CRI log, to an output-only client: for containers whose shim writes
// the log itself (the daemon never sees their output). It returns when the
// container has exited and its log is read to the end, the client cannot
// take output, or ctx ends; a rotated log is followed to its new file.
func (s *Service) followLog(ctx context.Context, c *Container, stdout, stderr io.Writer) error {
	id, path := c.ID, c.LogPath
	dir, rel, err := s.logBeneath(c)
	if err != nil {
		return err
	}
	f, err := fifo.OpenLogReader(dir, rel) // beneath the pod's log directory
	if err != nil {
		return err
	}
	defer func() { f.Close() }()
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	r := logReader{br: bufio.NewReader(f), out: map[fifo.Stream]io.Writer{fifo.StreamStdout: stdout, fifo.StreamStderr: stderr}}
	for {
		if err := r.drain(); err != nil {
			return nil // the client is gone
		}
		if c, err := s.get(id); err != nil || c.State == Exited {
			return r.drain()
		}
		if rotated(f, path) {
			if err := r.drain(); err != nil { // what reached the old file last
				return nil
			}
			nf, err := fifo.OpenLogReader(dir, rel)
			if err != nil {
				return nil
			}
			f.Close()
			f, r.br, r.pending = nf, bufio.NewReader(nf), nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(logPoll):
		}
	}
}

// logReader turns complete CRI log records into the client's streams.
type logReader struct {
	br      *bufio.Reader
	pending []byte // a record not yet ended by '\n'
	out     map[fifo.Stream]io.Writer
}

// drain writes every complete record there is now; it fails only when
// the client's writer does.
func (r *logReader) drain() error {
	for {
		chunk, err := r.br.ReadBytes('\n')
		r.pending = append(r.pending, chunk...)
		if err != nil {
			return nil // the rest of a record comes later
		}
		line := r.pending
		r.pending = nil
		e, perr := fifo.ParseLine(line)
		w := r.out[e.Stream]
		if perr != nil || w == nil {
			continue
		}
		content := e.Content
		if !e.Partial {
			content = append(content, '\n')
		}
		if _, err := w.Write(content); err != nil {
			return err
		}
	}
}

// rotated reports whether path no longer names the open file (kubelet
// rotated the log and the shim reopened it).
func rotated(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	if errors.Is(err2, os.ErrNotExist) || err1 != nil || err2 != nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && (sa.Ino != sb.Ino || sa.Dev != sb.Dev)
}
