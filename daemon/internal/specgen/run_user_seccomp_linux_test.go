package specgen

import (
	"os"
	"path/filepath"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// addUser appends alice (1002, member of audio 29) to the rootfs' user db.
func addUser(t *testing.T, rootfs string) {
	t.Helper()
	for name, line := range map[string]string{"etc/passwd": "alice:x:1002:1002::/tmp:/bin/sh\n", "etc/group": "audio:x:29:alice\nalice:x:1002:\n"} {
		f, err := os.OpenFile(filepath.Join(rootfs, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// run_as_username resolves in the image, and the Merge policy adds the
// user's /etc/group memberships to the supplemental groups; a Localhost
// seccomp profile is applied as written.
func TestUsernameGroupsAndLocalhostSeccompUnderRuncAndCrun(t *testing.T) {
	profileRoot := t.TempDir()
	profile := filepath.Join(profileRoot, "no-mkdir.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, binary := range []string{"runc", "crun"} {
		t.Run(binary, func(t *testing.T) {
			r := newRuntimeRun(t, binary)
			sb := testPod()
			sb.Linux.CgroupParent = ""
			pod := r.runPod(sb)
			cfg := shellContainer(`id; mkdir /tmp/d 2>/dev/null && echo mkdir=ok || echo mkdir=denied`, &runtimeapi.LinuxContainerSecurityContext{
				RunAsUsername:      "alice",
				SupplementalGroups: []int64{4000},
				Seccomp:            &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: profile},
			})
			r.prepareRootfs = func(rootfs string) { addUser(t, rootfs) }
			out := r.runInPod(cfg, sb, pod, func(o *ContainerOptions) { o.SeccompProfileRoot = profileRoot })
			want := "uid=1002(alice) gid=1002(alice) groups=29(audio),1002(alice),4000\nmkdir=denied\n"
			if out != want {
				t.Fatalf("container printed %q, want %q", out, want)
			}
		})
	}
}
