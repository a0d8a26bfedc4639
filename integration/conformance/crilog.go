package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/proto/types"
)

func init() {
	register("crilog",
		check{"CRILogURIWritesTheKubeletLogFormat", crilogFormat},
	)
}

// stdioSchemesAnnotation is where a runlet-style shim's RuntimeInfo lists
// the stdio URI schemes it takes besides FIFO paths.
const stdioSchemesAnnotation = "io.runlet.shim/stdio-schemes"

// criLogMaxLine is the longest content of one CRI log record (16 KiB, as
// containerd's CRI and the kubelet's parser expect).
const criLogMaxLine = 16 * 1024

// crilogFormat: with stdout and stderr both "crilog:///path", the shim
// writes the kubelet's CRI log format itself: "TIMESTAMP STREAM TAG
// CONTENT" records, F for a full line, P for a partial one (long lines cut
// at 16 KiB), and the records of each stream reassemble into exactly what
// the container wrote.
func crilogFormat(t *testing.T, x *tx) {
	if !x.s.cfg.claims(CRILogURI) {
		if reason, ok := x.s.cfg.Lacks[CRILogURI]; ok {
			t.Skipf("shim lacks %s: %s", CRILogURI, reason)
		}
		out := x.Run(x.within(time.Minute), nil, "-info")
		var info types.RuntimeInfo
		if out.Err != nil || proto.Unmarshal(out.Stdout, &info) != nil ||
			!strings.Contains(info.GetAnnotations()[stdioSchemesAnnotation], "crilog") {
			t.Skipf("probe: shim does not list crilog in RuntimeInfo annotation %s (-info: %v)", stdioSchemesAnnotation, out.Err)
		}
	}
	const long = 40000 // three records: P 16384, P 16384, F 7232
	script := fmt.Sprintf(`echo first; echo to-stderr >&2; head -c %d /dev/zero | tr '\0' L; echo; printf 'crlf\r\n'; printf 'no-newline-at-exit'`, long)
	b := x.bundle("sh", "-c", script)
	s := x.start(b)
	logFile := filepath.Join(x.Dir, "pods", b.ID, "0.log")
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		t.Fatal(err)
	}
	req := x.createReq(b, nil, false)
	req.Stdout = "crilog://" + logFile
	req.Stderr = "crilog://" + logFile
	if _, err := s.Client.Create(x.within(time.Minute), req); err != nil {
		t.Fatalf("Create with crilog:// stdio: %v", err)
	}
	x.startTask(s, b.ID, "")
	if w := x.wait(s, b.ID, ""); w.GetExitStatus() != 0 {
		t.Errorf("exit %d", w.GetExitStatus())
	}
	x.deleteTask(s, b.ID, "")

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ stream, tag, content string }
	var recs []rec
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), " ", 4)
		if len(parts) < 3 {
			t.Errorf("record %q: want TIMESTAMP STREAM TAG CONTENT", sc.Text())
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, parts[0]); err != nil {
			t.Errorf("record timestamp %q: %v", parts[0], err)
		}
		if parts[1] != "stdout" && parts[1] != "stderr" {
			t.Errorf("record stream %q", parts[1])
		}
		if parts[2] != "F" && parts[2] != "P" {
			t.Errorf("record tag %q", parts[2])
		}
		content := ""
		if len(parts) == 4 {
			content = parts[3]
		}
		if len(content) > criLogMaxLine {
			t.Errorf("a record holds %d bytes, over %d", len(content), criLogMaxLine)
		}
		recs = append(recs, rec{parts[1], parts[2], content})
	}
	var shape []string
	for _, r := range recs {
		shape = append(shape, fmt.Sprintf("%s %s %d", r.stream, r.tag, len(r.content)))
	}
	t.Logf("%d records: %s", len(recs), strings.Join(shape, ", "))
	// Reassemble each stream: P records continue a line, F ends it.
	lines := map[string][]string{}
	pending := map[string]string{}
	for _, r := range recs {
		pending[r.stream] += r.content
		if r.tag == "F" {
			lines[r.stream] = append(lines[r.stream], pending[r.stream])
			pending[r.stream] = ""
		}
	}
	wantOut := []string{"first", strings.Repeat("L", long), "crlf"}
	if got := lines["stdout"]; len(got) != len(wantOut) || got[0] != wantOut[0] || got[1] != wantOut[1] || got[2] != wantOut[2] {
		t.Errorf("stdout lines reassembled from the log: %d lines %q..., want first, %d L, crlf", len(got), abbreviate(got), long)
	}
	if pending["stdout"] != "no-newline-at-exit" {
		t.Errorf("the unterminated last output %q, want it as a P record %q", pending["stdout"], "no-newline-at-exit")
	}
	if got := lines["stderr"]; len(got) != 1 || got[0] != "to-stderr" {
		t.Errorf("stderr lines %q, want [to-stderr]", got)
	}
}

func abbreviate(lines []string) []string {
	var out []string
	for _, l := range lines {
		if len(l) > 40 {
			l = fmt.Sprintf("%s...(%d bytes)", l[:20], len(l))
		}
		out = append(out, l)
	}
	return out
}
