package runtime

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/integration/internal/daemontest"
)

func checkpointCtr(f *fixture, t *testing.T, id, location string) error {
	_, err := f.Runtime.CheckpointContainer(daemontest.Ctx(t), &runtimeapi.CheckpointContainerRequest{ContainerId: id, Location: location, Timeout: 60})
	return err
}

// CRIU cannot run on this machine's kernel (`criu check`: "vdso: Failed to
// fill self vdso symtable"), so a real checkpoint fails in the runtime;
// what is proved here is everything up to that call, and that the error
// says CRIU failed, with the right code, leaving nothing behind.
func TestCheckpointingWhereCRIUCannotRunNamesCRIUAndLeavesNothing(t *testing.T) {
	f := startWithBusybox(t)
	for i, h := range f.handlers {
		name := []string{"cp-runc", "cp-crun", "cp-ctrd"}[i]
		pod, ctr := f.run(t, name, h, "sleep 1000")
		location := filepath.Join(t.TempDir(), "checkpoint.tar")
		err := checkpointCtr(f, t, ctr, location)
		if code := status.Code(err); code != codes.FailedPrecondition && code != codes.Unimplemented {
			t.Errorf("%s: checkpoint: %v, want FailedPrecondition (or Unimplemented from a runtime without checkpointing)", name, err)
		}
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "criu") {
			t.Errorf("%s: the error does not name CRIU: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
		if entries, _ := os.ReadDir(filepath.Dir(location)); len(entries) != 0 {
			t.Errorf("%s: the location's directory holds %d entries", name, len(entries))
		}
		if entries, _ := os.ReadDir(filepath.Join(f.State, "checkpoints")); len(entries) != 0 {
			t.Errorf("%s: %d checkpoint stages left", name, len(entries))
		}
		if out := f.MustCrictl(t, "ps", "--id", ctr); !strings.Contains(out, "Running") {
			t.Errorf("%s: the container after the failed checkpoint: %s", name, out)
		}
		f.MustCrictl(t, "rmp", "-f", pod)
	}
	f.assertNothingLeft(t)
}

func TestCheckpointRequestsThatCannotBeHonouredGetTheirCodes(t *testing.T) {
	f := startWithBusybox(t)
	pod := f.runp(t, "cp-codes", "")
	created := strings.TrimSpace(f.MustCrictl(t, "create", pod, f.containerConfig(t, "cp-codes", "sleep 1000"), filepath.Join(f.Dir, "cp-codes-pod.json")))
	dir := t.TempDir()
	for _, c := range []struct {
		what, id, location string
		want               codes.Code
	}{
		{"an unknown container", "0123456789abcdef", filepath.Join(dir, "a.tar"), codes.NotFound},
		{"a created container", created, filepath.Join(dir, "b.tar"), codes.FailedPrecondition},
		{"a relative location", created, "c.tar", codes.InvalidArgument},
		{"a location in no directory", created, filepath.Join(dir, "absent", "d.tar"), codes.InvalidArgument},
	} {
		if err := checkpointCtr(f, t, c.id, c.location); status.Code(err) != c.want {
			t.Errorf("%s: %v, want %s", c.what, err, c.want)
		}
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

// fakeCRIURuntime is runc, except that `checkpoint` writes an image file
// and a CRIU log where runc would have CRIU write them, and succeeds: it
// stands in for CRIU where CRIU cannot run.
const fakeCRIURuntime = `#!/bin/sh
for a; do [ "$a" = checkpoint ] && cp=1; done
if [ -z "$cp" ]; then exec runc "$@"; fi
while [ $# -gt 0 ]; do
	case "$1" in
	--image-path) img=$2; shift ;;
	--work-path) work=$2; shift ;;
	--leave-running) leave=1 ;;
	esac
	shift
done
[ -n "$leave" ] || { echo "checkpoint without --leave-running" >&2; exit 1; }
echo fake-pages > "$img/pages-1.img" && echo "fake CRIU dump log" > "$work/dump.log"
`

func TestACheckpointArchiveHasTheLayoutContainerdAndCRIOWrite(t *testing.T) {
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "fake-criu-runc")
	if err := os.WriteFile(wrapper, []byte(fakeCRIURuntime), 0o755); err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf("[images]\nimport_dir = %q\n[runtimes.fakecriu]\nshim = %q\n[runtimes.fakecriu.options]\nbinary_name = %q\nroot = %q\n",
		busyboxImportDir(t), bundletest.ShimBinary(t, "runlet-shim-runc-v2"), wrapper, filepath.Join(dir, "runc-root"))
	f := startExtra(t, extra)
	pod, ctr := f.run(t, "cp-archive", "fakecriu", "echo app-output; echo changed > /new-file; rm /etc/passwd; sleep 1000")
	f.waitLogs(t, ctr, "app-output")
	daemontest.WaitFor(t, 30e9, "the container's changes", func() bool {
		out, _ := f.Crictl(t, "exec", ctr, "sh", "-c", "test -e /new-file && ! test -e /etc/passwd && echo ok")
		return strings.TrimSpace(out) == "ok"
	})
	location := filepath.Join(t.TempDir(), "checkpoint.tar")
	if err := checkpointCtr(f, t, ctr, location); err != nil {
		t.Fatal(err)
	}
	files := readTar(t, location)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, want := range []string{"checkpoint/", "checkpoint/pages-1.img", "config.dump", "spec.dump", "status.dump",
		"rootfs-diff.tar", "deleted.files", "container.log", "dump.log"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the archive lacks %s (has %v)", want, names)
		}
	}
	var cfg struct {
		ID, Name, RootfsImageName, Runtime string
	}
	if err := json.Unmarshal(files["config.dump"], &cfg); err != nil || cfg.ID != ctr || cfg.RootfsImageName != busybox || cfg.Runtime != "runlet-shim-runc-v2" {
		t.Errorf("config.dump %s: %v", files["config.dump"], err)
	}
	var spec struct {
		Process struct{ Args []string }
	}
	if err := json.Unmarshal(files["spec.dump"], &spec); err != nil || len(spec.Process.Args) == 0 {
		t.Errorf("spec.dump: %v", err)
	}
	var st runtimeapi.ContainerStatus
	if err := json.Unmarshal(files["status.dump"], &st); err != nil || st.Id != ctr || st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("status.dump %s: %v", files["status.dump"], err)
	}
	var deleted []string
	if err := json.Unmarshal(files["deleted.files"], &deleted); err != nil || !slices.Equal(deleted, []string{"etc/passwd"}) {
		t.Errorf("deleted.files %s: %v", files["deleted.files"], err)
	}
	diff := readTarBytes(t, files["rootfs-diff.tar"])
	if string(diff["new-file"]) != "changed\n" {
		t.Errorf("rootfs-diff.tar holds new-file %q", diff["new-file"])
	}
	if _, ok := diff["etc/passwd"]; ok {
		t.Error("rootfs-diff.tar holds the whiteout of etc/passwd")
	}
	if !strings.Contains(string(files["container.log"]), "app-output") || string(files["dump.log"]) != "fake CRIU dump log\n" {
		t.Errorf("container.log %q, dump.log %q", files["container.log"], files["dump.log"])
	}
	if out := f.MustCrictl(t, "ps", "--id", ctr); !strings.Contains(out, "Running") {
		t.Errorf("the container after its checkpoint: %s", out)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.State, "checkpoints")); len(entries) != 0 {
		t.Errorf("%d checkpoint stages left", len(entries))
	}
	f.MustCrictl(t, "rmp", "-f", pod)
	f.assertNothingLeft(t)
}

func readTar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readTarBytes(t, b)
}

func readTarBytes(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(strings.NewReader(string(b)))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[hdr.Name] = data
	}
}

func TestACheckpointStageLeftByAKilledRunletdIsRemovedAtStart(t *testing.T) {
	f := start(t)
	stale := filepath.Join(f.State, "checkpoints", "0123-456")
	if err := os.MkdirAll(filepath.Join(stale, "checkpoint"), 0o700); err != nil {
		t.Fatal(err)
	}
	f.Proc.Kill()
	f.Restart(t)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the stale stage after a restart: %v", err)
	}
}
