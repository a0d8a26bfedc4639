package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/integration/internal/shimtest"
)

func init() {
	register("pidns",
		check{"SharedPidNamespaceChildrenDieWithInit", pidnsShared},
		check{"ShimIsNotInTheDaemonsProcessGroup", pidnsProcessGroup},
	)
}

// pidnsShared: a container that joins another's pid namespace (a pod with
// shareProcessNamespace) has no namespace whose end kills its children,
// so when its init exits the shim must kill what is left in its cgroup.
func pidnsShared(t T, x *tx) {
	sandbox := x.bundle("sleep", "3600")
	s := x.start(sandbox)
	sandboxPid := x.create(s, sandbox, nil)
	x.startTask(s, sandbox.ID, "")
	app := x.NewBundle(shimtest.BundleOptions{
		Args:        []string{"sh", "-c", "sleep 3600 & echo started; exit 0"},
		Annotations: map[string]string{"io.kubernetes.cri.sandbox-id": sandbox.ID},
		Modify: func(spec *specs.Spec) {
			for i, ns := range spec.Linux.Namespaces {
				if ns.Type == specs.PIDNamespace {
					spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", sandboxPid)
				}
			}
		},
	})
	st, err := x.Start(x.ctx, shimtest.StartRequest{ID: app.ID, Bundle: app.Path, Gen: shimtest.Gen2, MaxVersion: 2, Options: x.Options()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Shim != s {
		t.Fatalf("the app got its own shim")
	}
	io := x.NewStdio(shimtest.StdioOptions{})
	x.create(s, app, io)
	x.startTask(s, app.ID, "")
	x.output(io.Out, "stdout", "started")
	if w := x.wait(s, app.ID, ""); w.GetExitStatus() != 0 {
		t.Errorf("app init exit %d", w.GetExitStatus())
	}
	procs := filepath.Join(cgroupDirFor(app.CgroupsPath), "cgroup.procs")
	var left string
	err = waitUntil(x.within(30*time.Second), func() bool {
		b, err := os.ReadFile(procs)
		left = strings.TrimSpace(string(b))
		return err != nil || left == ""
	})
	if err != nil {
		t.Errorf("processes %q still in the app's cgroup after its init exited: the shim must kill all when the pid namespace is shared", left)
	}
	x.deleteTask(s, app.ID, "")
	x.stop(s, sandbox.ID)
}

// cgroupDirFor is a container's cgroup in the pids hierarchy (v1) or the
// unified one (v2).
func cgroupDirFor(cgroupsPath string) string {
	if shimtest.CgroupV2() {
		return filepath.Join("/sys/fs/cgroup", cgroupsPath)
	}
	return filepath.Join("/sys/fs/cgroup/pids", cgroupsPath)
}

// pidnsProcessGroup: the serving shim is not in the process group of the
// daemon that started it, so a signal to the daemon's group (Ctrl-C,
// systemd stopping the daemon) does not take the containers down.
func pidnsProcessGroup(t T, x *tx) {
	s, b, _, _ := x.run("sleep", "3600")
	shimPgrp, err := procPgrp(s.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if own, _ := procPgrp(os.Getpid()); shimPgrp == own {
		t.Errorf("shim %d is in the daemon's process group %d", s.Pid, own)
	}
	x.stop(s, b.ID)
}

func procPgrp(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var pgrp int
	_, err = fmt.Sscan(fields[2], &pgrp)
	return pgrp, err
}
