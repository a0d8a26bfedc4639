package bundle

import (
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

func TestParseOptionsSplitsFlagsPropagationAndData(t *testing.T) {
	for _, tc := range []struct {
		options     []string
		flags       uintptr
		propagation uintptr
		data        []string
	}{
		{nil, 0, 0, nil},
		{[]string{"rbind", "ro"}, unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, 0, nil},
		{[]string{"ro", "rw"}, 0, 0, nil},
		{[]string{"nosuid", "nodev", "noexec", "relatime"}, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME, 0, nil},
		{[]string{"nosuid", "suid", "defaults"}, 0, 0, nil},
		{[]string{"rslave", "rprivate"}, 0, unix.MS_PRIVATE | unix.MS_REC, nil},
		{[]string{"shared"}, 0, unix.MS_SHARED, nil},
		{[]string{"lowerdir=/a:/b", "upperdir=/u", "index=off", "ro"}, unix.MS_RDONLY, 0, []string{"lowerdir=/a:/b", "upperdir=/u", "index=off"}},
		{[]string{"X-containerd.mkdir.path=/x", "x-user", "size=1m"}, 0, 0, []string{"size=1m"}},
	} {
		got, err := parseOptions(tc.options)
		if err != nil {
			t.Errorf("parseOptions(%q): %v", tc.options, err)
			continue
		}
		want := mountOptions{flags: tc.flags, propagation: tc.propagation, data: tc.data}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parseOptions(%q) = %+v, want %+v", tc.options, got, want)
		}
	}
}

func TestParseOptionsRejectsOptionsNeedingExtraWork(t *testing.T) {
	for _, opt := range []string{"remount", "loop"} {
		if _, err := parseOptions([]string{opt}); !errdefs.IsNotImplemented(err) {
			t.Errorf("parseOptions(%q) = %v, want NotImplemented", opt, err)
		}
	}
}

func TestMountAttrForMapsFlagsAndAtimeMode(t *testing.T) {
	attr, rec := mountAttrFor(unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NOATIME)
	if !rec {
		t.Error("rbind not recursive")
	}
	if want := uint64(unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOATIME); attr.Attr_set != want {
		t.Errorf("Attr_set = %#x, want %#x", attr.Attr_set, want)
	}
	if attr.Attr_clr != unix.MOUNT_ATTR__ATIME {
		t.Errorf("Attr_clr = %#x, want the atime field", attr.Attr_clr)
	}
	if attr, _ := mountAttrFor(unix.MS_BIND | unix.MS_RDONLY); attr.Attr_clr != 0 {
		t.Errorf("atime mode changed without an atime option: clr %#x", attr.Attr_clr)
	}
}

func TestCompactLowerdirsMakesLowerdirsRelativeToCommonParent(t *testing.T) {
	dir, got, err := compactLowerdirs([]string{"index=off", "lowerdir=/s/snap/1/fs:/s/snap/22/fs", "upperdir=/s/snap/3/fs", "workdir=/s/snap/3/work"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"index=off", "lowerdir=1/fs:22/fs", "upperdir=/s/snap/3/fs", "workdir=/s/snap/3/work"}
	if dir != "/s/snap" || !reflect.DeepEqual(got, want) {
		t.Fatalf("compactLowerdirs = %q, %q; want /s/snap, %q", dir, got, want)
	}
	if _, _, err := compactLowerdirs([]string{"upperdir=/u"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("no lowerdir: %v, want InvalidArgument", err)
	}
	if _, _, err := compactLowerdirs([]string{"lowerdir=rel:/abs"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("relative lowerdir: %v, want InvalidArgument", err)
	}
}

func TestCommonParentNeverReturnsALowerdirItself(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"/a/b/c"}, "/a/b"},
		{[]string{"/a/b/c", "/a/b/d"}, "/a/b"},
		{[]string{"/a/b/c", "/a/x/d"}, "/a"},
		{[]string{"/a/b", "/c/d"}, "/"},
		{[]string{"/a/b", "/a/b/c"}, "/a"},
	} {
		if got := commonParent(tc.paths); got != tc.want {
			t.Errorf("commonParent(%q) = %q, want %q", tc.paths, got, tc.want)
		}
	}
}
