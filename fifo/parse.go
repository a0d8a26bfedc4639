package fifo

import (
	"bytes"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
)

// Entry is one parsed CRI log record.
type Entry struct {
	Time   time.Time
	Stream Stream
	// Partial is true for a P record: the line goes on in the next record
	// of the same stream.
	Partial bool
	// Content is the record's content without the record's '\n'. It
	// aliases the parsed line.
	Content []byte
}

// ParseLine parses one CRI log record, with or without its trailing '\n'.
// Concatenating the contents of a run of P records and the F record that
// ends it gives back the original line. Tags such as "F:x" are read by their
// first field, as the kubelet does, for forward compatibility. A malformed
// record fails with errdefs.ErrInvalidArgument.
func ParseLine(line []byte) (Entry, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Entry{}, malformed("no timestamp", line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return Entry{}, fmt.Errorf("cri log record: timestamp: %w: %w", err, errdefs.ErrInvalidArgument)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (Stream(stream) != StreamStdout && Stream(stream) != StreamStderr) {
		return Entry{}, malformed("no stdout/stderr stream", line)
	}
	tags, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return Entry{}, malformed("no tag", line)
	}
	tag, _, _ := bytes.Cut(tags, []byte{':'})
	if len(tag) != 1 || (tag[0] != tagFull && tag[0] != tagPartial) {
		return Entry{}, malformed("tag is neither F nor P", line)
	}
	return Entry{Time: t, Stream: Stream(stream), Partial: tag[0] == tagPartial, Content: content}, nil
}

// malformed reports a record that does not follow the format.
func malformed(why string, line []byte) error {
	if len(line) > 64 {
		line = line[:64]
	}
	return fmt.Errorf("cri log record %q: %s: %w", line, why, errdefs.ErrInvalidArgument)
}
