package fifo

import "bytes"

// logStream turns one stream's bytes into CRI log records.
type logStream struct {
	w    *LogWriter
	name Stream

	// pending holds the current line's bytes not yet written: at most
	// MaxLineSize, or MaxLineSize+1 when the last is a '\r' that may start
	// the line's "\r\n" ending. Guarded by w.mu.
	pending []byte
	closed  bool // guarded by w.mu
}

// Write turns p into records; see [LogWriter.Stream].
func (s *logStream) Write(p []byte) (int, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.closed || s.w.f == nil {
		return 0, s.w.closedError()
	}
	defer s.w.flush()
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buffer(p)
			return n, nil
		}
		s.endLine(p[:i])
		p = p[i+1:]
	}
}

// Close writes an unterminated line as P records. Closing twice is a no-op.
func (s *logStream) Close() error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.closed || s.w.f == nil {
		return nil
	}
	s.flushPartial()
	s.w.flush()
	s.closed = true
	s.w.forget(s)
	return nil
}

// Flush writes the unterminated line held back as P records; the line
// goes on in the next record. [Copier.Drain] calls it, so that a process'
// last words are in the file when its exit is reported.
func (s *logStream) Flush() error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.closed || s.w.f == nil {
		return nil
	}
	s.flushPartial()
	s.w.flush()
	return nil
}

// endLine writes the line made of pending and tail, whose '\n' was seen.
// The caller holds w.mu.
func (s *logStream) endLine(tail []byte) {
	if len(s.pending) == 0 {
		if line := trimCR(tail); len(line) <= MaxLineSize {
			s.w.record(s.name, tagFull, line)
			return
		}
	}
	s.buffer(tail)
	s.w.record(s.name, tagFull, trimCR(s.pending))
	s.pending = s.pending[:0]
}

// buffer appends b, which holds no '\n', to the current line, writing a P
// record of MaxLineSize bytes whenever more content is known to follow.
// The caller holds w.mu.
func (s *logStream) buffer(b []byte) {
	if s.pending == nil && len(b) > 0 {
		s.pending = make([]byte, 0, MaxLineSize+1)
	}
	for len(b) > 0 {
		if len(s.pending) == MaxLineSize+1 {
			s.flushChunk() // the held '\r' is content after all
		}
		k := copy(s.pending[len(s.pending):MaxLineSize+1], b)
		s.pending = s.pending[:len(s.pending)+k]
		b = b[k:]
		if len(s.pending) == MaxLineSize+1 && s.pending[MaxLineSize] != '\r' {
			s.flushChunk()
		}
	}
}

// flushChunk writes the first MaxLineSize pending bytes as a P record and
// keeps the rest. The caller holds w.mu.
func (s *logStream) flushChunk() {
	s.w.record(s.name, tagPartial, s.pending[:MaxLineSize])
	s.pending = s.pending[:copy(s.pending, s.pending[MaxLineSize:])]
}

// flushPartial writes an unterminated line as P records, at end of stream.
// The caller holds w.mu.
func (s *logStream) flushPartial() {
	if len(s.pending) > MaxLineSize {
		s.flushChunk()
	}
	if len(s.pending) > 0 {
		s.w.record(s.name, tagPartial, s.pending)
		s.pending = s.pending[:0]
	}
}

// trimCR drops the '\r' of a "\r\n" line ending.
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}
