package fifo

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func TestParseLineReadsAllFields(t *testing.T) {
	e, err := ParseLine([]byte("2024-05-06T07:08:09.5+02:00 stderr P a b \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 5, 6, 5, 8, 9, 5e8, time.UTC)
	if !e.Time.Equal(want) || e.Stream != StreamStderr || !e.Partial || string(e.Content) != "a b " {
		t.Fatalf("entry = %+v", e)
	}
}

func TestParseLineReadsTheFirstFieldOfAColonTag(t *testing.T) {
	e, err := ParseLine([]byte(fixedStamp + " stdout F:future x"))
	if err != nil || e.Partial || string(e.Content) != "x" {
		t.Fatalf("entry = %+v, %v", e, err)
	}
}

func TestParseLineRejectsMalformedRecordsAsInvalidArgument(t *testing.T) {
	for name, line := range map[string]string{
		"empty":       "",
		"no stream":   fixedStamp,
		"bad time":    "yesterday stdout F x",
		"bad stream":  fixedStamp + " stdin F x",
		"no tag":      fixedStamp + " stdout",
		"bad tag":     fixedStamp + " stdout X x",
		"no content":  fixedStamp + " stdout F",
		"tag too big": fixedStamp + " stdout FF x",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseLine([]byte(line)); !errdefs.IsInvalidArgument(err) {
				t.Fatalf("ParseLine(%q) = %v, want InvalidArgument", line, err)
			}
		})
	}
}

func TestParseLineRoundTripsWhatTheWriterWrote(t *testing.T) {
	w, path := openTestLog(t)
	w.now = time.Now
	s := w.Stream(StreamStdout)
	rng := rand.New(rand.NewPCG(1, 2))
	var want [][]byte
	for range 200 {
		line := make([]byte, rng.IntN(3*MaxLineSize))
		for i := range line {
			line[i] = byte(rng.IntN(256))
			if line[i] == '\n' {
				line[i] = ' '
			}
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line[len(line)-1] = '.'
		}
		want = append(want, line)
		mustWrite(t, s, append(bytes.Clone(line), '\n'))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	var cur []byte
	for _, rec := range bytes.SplitAfter(data, []byte{'\n'}) {
		if len(rec) == 0 {
			continue
		}
		e, err := ParseLine(rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Content) > MaxLineSize {
			t.Fatalf("record carries %d bytes, over %d", len(e.Content), MaxLineSize)
		}
		cur = append(cur, e.Content...)
		if !e.Partial {
			got = append(got, cur)
			cur = nil
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines back, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d differs: %d bytes back, want %d", i, len(got[i]), len(want[i]))
		}
	}
}
