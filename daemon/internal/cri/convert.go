package cri

import (
	"strconv"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/daemon/internal/images"
)

// toCRIImage reports the fields kubelet reads.
func toCRIImage(img images.Image) *runtime.Image {
	out := &runtime.Image{
		Id:          img.ID,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		Size:        img.Size,
		Pinned:      img.Pinned,
		Spec:        &runtime.ImageSpec{Image: img.ID, Annotations: img.Annotations},
	}
	uid, username := userOf(img.User)
	if uid != nil {
		out.Uid = &runtime.Int64Value{Value: *uid}
	}
	out.Username = username
	return out
}

// userOf splits an image config's User ("uid", "name", "uid:gid", "name:group")
// into a numeric uid or a user name, as kubelet expects for runAsNonRoot checks.
func userOf(user string) (*int64, string) {
	u, _, _ := strings.Cut(user, ":")
	if u == "" {
		return nil, ""
	}
	if n, err := strconv.ParseInt(u, 10, 64); err == nil {
		return &n, ""
	}
	return nil, u
}
