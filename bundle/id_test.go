package bundle

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestValidateIDAcceptsContainerdIdentifiers(t *testing.T) {
	for _, id := range []string{
		"a", "A", "0", "abc123", "k8s.io", "my-pod_1.2", "a-b-c",
		strings.Repeat("x", MaxIDLength),
		"3c038c7ebdcd46a64a0c4d76b4be9b353c038c7ebdcd46a64a0c4d76b4be9b35", // 64 hex, CRI ids
	} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
}

func TestValidateIDRejectsPathTricksAndBadShapes(t *testing.T) {
	for _, id := range []string{
		"", ".", "..", "../x", "a/b", "/abs", "a..b", "a--b", "-a", "a-", ".a", "a.",
		"_a", "a b", "a\x00b", "a\nb", "ä", "a:b", "a~b",
		strings.Repeat("x", MaxIDLength+1),
	} {
		err := ValidateID(id)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("ValidateID(%q) = %v, want InvalidArgument", id, err)
		}
	}
}
