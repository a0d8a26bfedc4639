package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/integration/internal/shimtest"
	"github.com/runlet/runlet/proto/events"
	"github.com/runlet/runlet/proto/runc/options"
	task "github.com/runlet/runlet/proto/task/v2"
	"github.com/runlet/runlet/proto/types"
)

func init() {
	register("subcommand",
		check{"DeleteAfterShimKilledPrintsExit137AndCleansUp", subDelete},
		check{"DeleteCleansEveryContainerOfAKilledPodShim", subDeleteGroup},
		check{"InfoPrintsRuntimeInfo", subInfo},
		check{"VersionFlagPrintsVersion", subVersion},
		check{"CheckpointReachesCRIU", subCheckpoint},
	)
}

// subDelete: when the shim is gone (SIGKILL), `SHIM ... -bundle DIR
// delete` prints a DeleteResponse with exit status 137 and removes the
// runtime state, the container and the rootfs mount.
func subDelete(t T, x *tx) {
	s, b, _, pid := x.run("sleep", "3600")
	if !rootfsMounted(b) {
		t.Fatalf("rootfs not mounted at %s", b.RootfsTarget())
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitExit(x.within(time.Minute)); err != nil {
		t.Fatal(err)
	}
	out := x.Command(x.within(time.Minute), b.Path, shimtest.Gen2, 2, nil, b.ID, "-bundle", b.Path, "delete")
	if out.Err != nil {
		t.Fatalf("delete: %s", out)
	}
	s.MarkDeleted(b.ID)
	var resp task.DeleteResponse
	if err := proto.Unmarshal(out.Stdout, &resp); err != nil {
		t.Fatalf("delete printed %q, not a DeleteResponse: %v", out.Stdout, err)
	}
	if resp.GetExitStatus() != 137 {
		t.Errorf("delete exit_status %d, want 137 (%v)", resp.GetExitStatus(), &resp)
	}
	if resp.GetExitedAt() == nil {
		t.Errorf("delete exited_at unset")
	}
	ids, err := shimtest.RuntimeList(x.within(time.Minute), x.Target.Runtime, filepath.Join(x.RuntimeRoot, x.Namespace))
	if err != nil {
		t.Error(err)
	}
	if slices.Contains(ids, b.ID) {
		t.Errorf("runtime state of %s still there after delete", b.ID)
	}
	if rootfsMounted(b) {
		t.Errorf("rootfs still mounted at %s after delete", b.RootfsTarget())
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(st), ") Z") {
		t.Errorf("container init %d still runs after delete", pid)
	}
}

// subInfo: `SHIM -info` (runtime options on stdin) prints a RuntimeInfo
// naming the shim's runtime and its version.
func subInfo(t T, x *tx) {
	claimed := x.s.cfg.require(t, Info)
	opts, err := shimtest.OptionsAny(x.Options())
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := proto.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	out := x.Run(x.within(time.Minute), stdin, "-info")
	var info types.RuntimeInfo
	perr := proto.Unmarshal(out.Stdout, &info)
	if !claimed && (out.Err != nil || perr != nil || info.GetName() == "") {
		t.Skipf("probe: shim has no -info: %s", out)
	}
	if out.Err != nil {
		t.Fatalf("-info: %s", out)
	}
	if perr != nil {
		t.Fatalf("-info printed %q, not a RuntimeInfo: %v", out.Stdout, perr)
	}
	if info.GetName() == "" || info.GetVersion().GetVersion() == "" {
		t.Errorf("RuntimeInfo name %q version %v: both must be set", info.GetName(), info.GetVersion())
	}
	t.Logf("RuntimeInfo: name %q version %v options %s features %s", info.GetName(), info.GetVersion(), info.GetOptions().GetTypeUrl(), info.GetFeatures().GetTypeUrl())
}

// subVersion: `SHIM -v` prints a version and exits 0.
func subVersion(t T, x *tx) {
	out := x.Run(x.within(time.Minute), nil, "-v")
	if out.Err != nil {
		t.Fatalf("-v: %s", out)
	}
	if len(strings.TrimSpace(string(out.Stdout))) == 0 {
		t.Errorf("-v printed nothing on stdout (stderr %q)", out.Stderr)
	}
	t.Logf("-v: %s", strings.TrimSpace(string(out.Stdout)))
}

// subCheckpoint: Checkpoint is implemented: it either writes an image and
// publishes /tasks/checkpointed, or fails with the error of criu or the
// runtime; NotImplemented fails a shim that claims the capability and
// skips one that does not.
func subCheckpoint(t T, x *tx) {
	claimed := x.s.cfg.require(t, Checkpoint)
	s, b, _, _ := x.run("sleep", "3600")
	image := filepath.Join(x.Dir, "checkpoint")
	copts, err := proto.Marshal(&options.CheckpointOptions{Exit: false, WorkPath: filepath.Join(x.Dir, "criu-work")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Client.Checkpoint(x.within(2*time.Minute), &task.CheckpointTaskRequest{
		Id: b.ID, Path: image, Options: &anypb.Any{TypeUrl: "containerd.runc.v1.CheckpointOptions", Value: copts},
	})
	if err != nil {
		code := status.Code(err)
		if code == codes.Unimplemented || strings.Contains(err.Error(), "not implemented") {
			if !claimed {
				x.stop(s, b.ID)
				t.Skipf("probe: shim does not implement Checkpoint: %v", err)
			}
			t.Fatalf("Checkpoint is not implemented, but the shim claims %s: %v", Checkpoint, err)
		}
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, "criu") && !strings.Contains(msg, "checkpoint") {
			t.Errorf("Checkpoint failed with an error that names neither criu nor the runtime's checkpoint: %v", err)
		}
		x.wantStatus(s, b.ID, "", statusRunning)
		x.stop(s, b.ID)
		t.Skipf("the runtime or criu cannot checkpoint on this host; the shim reached them and reported: %v%s", err, criuLogErrors(err.Error()))
	}
	if entries, err := os.ReadDir(image); err != nil || len(entries) == 0 {
		t.Errorf("checkpoint image %s empty: %v", image, err)
	}
	cp := waitEvent[*events.TaskCheckpointed](x, "/tasks/checkpointed", b.ID, nil)
	if cp.GetCheckpoint() == "" {
		t.Logf("/tasks/checkpointed carries no checkpoint name: %v", cp)
	}
	x.stop(s, b.ID)
}

var criuLogPath = regexp.MustCompile(`path=\s*(/\S+\.log)`)

// criuLogErrors quotes the Error lines of the criu log an error names.
func criuLogErrors(msg string) string {
	m := criuLogPath.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	b, err := os.ReadFile(m[1])
	if err != nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "Error") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "; criu log: " + strings.Join(lines, " | ")
}

// subDeleteGroup: when a pod's shim dies, `delete` run for each of its
// containers (from that container's bundle) cleans that container up.
func subDeleteGroup(t T, x *tx) {
	sandbox := x.bundle("sleep", "3600")
	s := x.start(sandbox)
	app := x.NewBundle(shimtest.BundleOptions{Args: []string{"sleep", "3600"}, Annotations: map[string]string{"io.kubernetes.cri.sandbox-id": sandbox.ID}})
	if st, err := x.Start(x.ctx, shimtest.StartRequest{ID: app.ID, Bundle: app.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()}); err != nil || st.Shim != s {
		t.Fatalf("start the app in the pod's shim: %v", err)
	}
	for _, b := range []*shimtest.Bundle{sandbox, app} {
		x.create(s, b, nil)
		x.startTask(s, b.ID, "")
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitExit(x.within(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*shimtest.Bundle{app, sandbox} {
		out := x.Command(x.within(time.Minute), b.Path, shimtest.Gen2, 2, nil, b.ID, "-bundle", b.Path, "delete")
		if out.Err != nil {
			t.Errorf("delete %s: %s", b.ID, out)
			continue
		}
		s.MarkDeleted(b.ID)
		var resp task.DeleteResponse
		if err := proto.Unmarshal(out.Stdout, &resp); err != nil || resp.GetExitStatus() != 137 {
			t.Errorf("delete %s printed %v (%v), want exit_status 137", b.ID, &resp, err)
		}
		if rootfsMounted(b) {
			t.Errorf("rootfs of %s still mounted after delete", b.ID)
		}
	}
	ids, err := shimtest.RuntimeList(x.within(time.Minute), x.Target.Runtime, filepath.Join(x.RuntimeRoot, x.Namespace))
	if err != nil {
		t.Error(err)
	}
	if len(ids) > 0 {
		t.Errorf("runtime state left after delete of every container: %v", ids)
	}
}
