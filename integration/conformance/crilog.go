package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/runlet/runlet/integration/internal/shimtest"
	task "github.com/runlet/runlet/proto/task/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/proto/types"
)

func init() {
	register("crilog",
		check{"CRILogURIWritesTheKubeletLogFormat", crilogFormat},
		check{"CRILogReopensAfterRotation", crilogReopen},
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
func crilogFormat(t T, x *tx) {
	crilogRequire(t, x)
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

// crilogRequire skips unless the shim claims crilog:// or lists it in
// its RuntimeInfo.
func crilogRequire(t T, x *tx) {
	t.Helper()
	if x.s.cfg.claims(CRILogURI) {
		return
	}
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

// reopenLogAnnotation on an Update without resources asks a runlet-style
// shim to reopen the task's CRI log (CRI ReopenContainerLog).
const reopenLogAnnotation = "io.runlet.shim/reopen-log"

// crilogReopen: after the kubelet renames the log (rotation), an Update
// carrying the reopen annotation makes the shim write to a new file at
// the path; nothing is lost or written to the wrong file.
func crilogReopen(t T, x *tx) {
	crilogRequire(t, x)
	b := x.bundle("sh", "-c", "read x; echo before; read y; echo after")
	s := x.start(b)
	logFile := filepath.Join(x.Dir, "pods", b.ID, "0.log")
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		t.Fatal(err)
	}
	io := x.NewStdio(shimtest.StdioOptions{Stdin: true})
	req := x.createReq(b, nil, false)
	req.Stdin = io.Stdin
	req.Stdout = "crilog://" + logFile
	req.Stderr = "crilog://" + logFile
	if _, err := s.Client.Create(x.within(time.Minute), req); err != nil {
		t.Fatalf("Create with crilog:// stdio: %v", err)
	}
	x.startTask(s, b.ID, "")
	contains := func(path, want string) func() bool {
		return func() bool {
			data, _ := os.ReadFile(path)
			return strings.Contains(string(data), want)
		}
	}
	if err := io.Write(x.within(time.Minute), []byte("1\n")); err != nil {
		t.Fatal(err)
	}
	if err := waitUntil(x.within(time.Minute), contains(logFile, " before")); err != nil {
		t.Fatalf("the log never got the first line: %v", err)
	}
	rotated := logFile + ".1"
	if err := os.Rename(logFile, rotated); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.Update(x.within(time.Minute), &task.UpdateTaskRequest{Id: b.ID, Annotations: map[string]string{reopenLogAnnotation: "1"}}); err != nil {
		t.Fatalf("Update with %s: %v", reopenLogAnnotation, err)
	}
	if err := io.Write(x.within(time.Minute), []byte("2\n")); err != nil {
		t.Fatal(err)
	}
	x.wait(s, b.ID, "")
	if err := waitUntil(x.within(time.Minute), contains(logFile, " after")); err != nil {
		data, _ := os.ReadFile(logFile)
		t.Errorf("the reopened log %s holds %q, want the line written after the rotation", logFile, data)
	}
	if old, _ := os.ReadFile(rotated); !strings.Contains(string(old), " before") || strings.Contains(string(old), " after") {
		t.Errorf("the rotated log holds %q, want only the line from before the rotation", old)
	}
	if cur, _ := os.ReadFile(logFile); strings.Contains(string(cur), " before") {
		t.Errorf("the new log repeats the line from before the rotation: %q", cur)
	}
	x.deleteTask(s, b.ID, "")
}
