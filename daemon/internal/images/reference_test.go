package images

import (
	"testing"

	"github.com/containerd/errdefs"
)

func TestParseReferenceNormalizesAsKubeletDoes(t *testing.T) {
	cases := map[string]string{
		"busybox":                       "docker.io/library/busybox:latest",
		"busybox:1.36":                  "docker.io/library/busybox:1.36",
		"docker.io/library/busybox":     "docker.io/library/busybox:latest",
		"index.docker.io/me/app:v1":     "docker.io/me/app:v1",
		"registry.k8s.io/pause:3.9":     "registry.k8s.io/pause:3.9",
		"127.0.0.1:5000/a/b/c:tag":      "127.0.0.1:5000/a/b/c:tag",
		"localhost/runlet/pause:x":      "localhost/runlet/pause:x",
		"quay.io/x/y@sha256:" + hex64:   "quay.io/x/y@sha256:" + hex64,
		"quay.io/x/y:t@sha256:" + hex64: "quay.io/x/y@sha256:" + hex64,
	}
	for in, want := range cases {
		r, err := ParseReference(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("%s normalized to %s, want %s", in, r.String(), want)
		}
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseReferenceRejectsMalformedWithInvalidArgument(t *testing.T) {
	for _, in := range []string{"", " ", "BusyBox", "a//b", "busybox:", "x@sha256:short", "x@md5:" + hex64, "-leading/dash"} {
		if _, err := ParseReference(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: err = %v, want InvalidArgument", in, err)
		}
	}
}

func TestValidateDigestAcceptsOnlyPathSafeSha256(t *testing.T) {
	if err := ValidateDigest("sha256:" + hex64); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sha256:../../etc", "sha256:" + hex64 + "/x", "sha512:" + hex64, "sha256:" + hex64[:63] + "G"} {
		if err := ValidateDigest(d); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q accepted", d)
		}
	}
}
