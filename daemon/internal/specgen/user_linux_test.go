package specgen

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// testRootfs has an /etc/passwd and /etc/group with users in groups.
func testRootfs(t *testing.T) string {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "etc/passwd")
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n# comment\nwww-data:x:33:33::/var/www:/bin/false\nalice:x:1002:1002::/home/alice:/bin/sh\nbroken line\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nwww-data:x:33:\nalice:x:1002:\nwheel:x:10:alice,bob\naudio:x:29:alice\nstaff:x:50000:\n"), 0o644)
	return root
}

func TestLookupInRootfsResolvesUsersAndGroups(t *testing.T) {
	lookup := LookupInRootfs(testRootfs(t))
	for _, tc := range []struct {
		user          string
		uid, gid      uint32
		members       []uint32
		wantErrorText string
	}{
		{user: "alice", uid: 1002, gid: 1002, members: []uint32{10, 29}},
		{user: "1002", uid: 1002, gid: 1002, members: []uint32{10, 29}},
		{user: "alice:staff", uid: 1002, gid: 50000, members: []uint32{10, 29}},
		{user: "www-data:7", uid: 33, gid: 7},
		{user: "4000", uid: 4000, gid: 0},
		{user: "4000:4001", uid: 4000, gid: 4001},
		{user: "nobody", wantErrorText: "no user"},
		{user: "alice:nogroup", wantErrorText: "no group"},
	} {
		uid, gid, members, err := lookup(tc.user)
		if tc.wantErrorText != "" {
			wantInvalid(t, err, tc.wantErrorText)
			continue
		}
		if err != nil || uid != tc.uid || gid != tc.gid || !slices.Equal(members, tc.members) {
			t.Errorf("lookup(%q) = %d %d %v %v; want %d %d %v", tc.user, uid, gid, members, err, tc.uid, tc.gid, tc.members)
		}
	}
}

// A rootfs whose /etc or /etc/passwd points outside is resolved as a
// chroot would resolve it: the host's files are never read.
func TestLookupInRootfsNeverFollowsSymlinksOutOfTheRootfs(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "passwd"), []byte("evil:x:0:0::/:/bin/sh\n"), 0o644)
	for name, link := range map[string]struct{ path, target string }{
		"absolute etc":    {"etc", outside},
		"relative passwd": {"etc/passwd", "../../../../../../../../" + outside + "/passwd"},
		"absolute passwd": {"etc/passwd", outside + "/passwd"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			os.Remove(filepath.Join(root, link.path))
			if err := os.Symlink(link.target, filepath.Join(root, link.path)); err != nil {
				t.Fatal(err)
			}
			_, _, _, err := LookupInRootfs(root)("evil")
			if err == nil {
				t.Fatal("resolved a user from a passwd file outside the rootfs")
			}
		})
	}
	// A symlink that stays inside the rootfs works, as in the container.
	root := testRootfs(t)
	os.Rename(filepath.Join(root, "etc/passwd"), filepath.Join(root, "etc/passwd.real"))
	os.Symlink("/etc/passwd.real", filepath.Join(root, "etc/passwd"))
	if uid, _, _, err := LookupInRootfs(root)("alice"); err != nil || uid != 1002 {
		t.Fatalf("in-rootfs symlink: uid %d, %v", uid, err)
	}
}

func TestLookupInRootfsRefusesAPasswdThatIsNotAFile(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/passwd"), 0o755)
	_, _, _, err := LookupInRootfs(root)("0")
	wantInvalid(t, err, "regular file")
}

func TestContainerUserResolution(t *testing.T) {
	rootfs := testRootfs(t)
	i64 := func(v int64) *runtimeapi.Int64Value { return &runtimeapi.Int64Value{Value: v} }
	for _, tc := range []struct {
		name      string
		sc        *runtimeapi.LinuxContainerSecurityContext
		imageUser string
		want      specs.User
	}{
		{"root by default, in its groups", &runtimeapi.LinuxContainerSecurityContext{}, "", specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0}}},
		{"image user", &runtimeapi.LinuxContainerSecurityContext{}, "alice", specs.User{UID: 1002, GID: 1002, AdditionalGids: []uint32{10, 29, 1002}}},
		{"run_as_user overrides image", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(33)}, "alice", specs.User{UID: 33, GID: 33, AdditionalGids: []uint32{33}}},
		{"run_as_username", &runtimeapi.LinuxContainerSecurityContext{RunAsUsername: "www-data"}, "", specs.User{UID: 33, GID: 33, AdditionalGids: []uint32{33}}},
		{"run_as_group", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1002), RunAsGroup: i64(7)}, "", specs.User{UID: 1002, GID: 7, AdditionalGids: []uint32{7, 10, 29}}},
		{"merge supplemental groups", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1002), SupplementalGroups: []int64{50000, 10}}, "", specs.User{UID: 1002, GID: 1002, AdditionalGids: []uint32{10, 29, 1002, 50000}}},
		{"strict ignores /etc/group", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1002), SupplementalGroups: []int64{50000}, SupplementalGroupsPolicy: runtimeapi.SupplementalGroupsPolicy_Strict}, "", specs.User{UID: 1002, GID: 1002, AdditionalGids: []uint32{1002, 50000}}},
		{"unknown uid", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(5000)}, "", specs.User{UID: 5000, GID: 0, AdditionalGids: []uint32{0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.UserLookup, o.Image.User = LookupInRootfs(rootfs), tc.imageUser
			got := mustContainerSpec(t, testContainer(tc.sc), testPod(), o).Process.User
			if got.UID != tc.want.UID || got.GID != tc.want.GID || !slices.Equal(got.AdditionalGids, tc.want.AdditionalGids) {
				t.Fatalf("user %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestContainerUserErrors(t *testing.T) {
	i64 := func(v int64) *runtimeapi.Int64Value { return &runtimeapi.Int64Value{Value: v} }
	for _, tc := range []struct {
		name  string
		sc    *runtimeapi.LinuxContainerSecurityContext
		field string
	}{
		{"group without user", &runtimeapi.LinuxContainerSecurityContext{RunAsGroup: i64(5)}, "run_as_group"},
		{"both user fields", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(5), RunAsUsername: "alice"}, "run_as_username"},
		{"negative uid", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(-1)}, "run_as_user"},
		{"negative group", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1), SupplementalGroups: []int64{-3}}, "supplemental_groups"},
		{"unknown user name", &runtimeapi.LinuxContainerSecurityContext{RunAsUsername: "mallory"}, "mallory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.UserLookup = LookupInRootfs(testRootfs(t))
			_, err := ContainerSpec(testContainer(tc.sc), testPod(), o)
			wantInvalid(t, err, tc.field)
		})
	}
	// Without a lookup, names cannot be resolved.
	_, err := ContainerSpec(testContainer(&runtimeapi.LinuxContainerSecurityContext{RunAsUsername: "alice"}), testPod(), testOptions())
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("name without lookup: %v", err)
	}
}

func TestLookupInRootfsRefusesAMalformedPasswd(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(strings.Repeat("x", 1<<17)), 0o644)
	_, _, _, err := LookupInRootfs(root)("0")
	wantInvalid(t, err, "parse etc/passwd")
}
