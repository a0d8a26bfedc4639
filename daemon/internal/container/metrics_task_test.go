package container

import (
	"testing"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/proto/types"
)

func TestWritableLayerIsTheOverlayUpperOrTheBoundDirectory(t *testing.T) {
	overlay := []*types.Mount{{Type: "overlay", Source: "overlay",
		Options: []string{"index=off", "lowerdir=/l2:/l1", "upperdir=/snap/c1/upper", "workdir=/snap/c1/work"}}}
	if dir, err := writableDir(overlay); err != nil || dir != "/snap/c1/upper" {
		t.Fatalf("overlay: %q, %v", dir, err)
	}
	bind := []*types.Mount{{Type: "bind", Source: "/snap/c2/upper", Options: []string{"rbind", "rw"}}}
	if dir, err := writableDir(bind); err != nil || dir != "/snap/c2/upper" {
		t.Fatalf("bind: %q, %v", dir, err)
	}
	if _, err := writableDir(nil); !errdefs.IsNotFound(err) {
		t.Fatalf("no mounts: %v, want NotFound", err)
	}
}
