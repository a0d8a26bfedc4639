package images

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runlet/runlet/integration/images/testimages"
)

// push writes img to the registry as repo:tag and returns its manifest digest.
func (r *registry) push(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// v1Image is a go-containerregistry image.
type v1Image = v1.Image

// pushWithAuth writes img to ref with basic credentials.
func pushWithAuth(t testing.TB, refStr string, img v1.Image, user, password string) {
	t.Helper()
	ref, err := name.ParseReference(refStr, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	if err := remote.Write(ref, img, remote.WithAuth(auth)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// pushIndex writes idx to the registry as repo:tag and returns its digest.
func (r *registry) pushIndex(t testing.TB, repoTag string, idx v1.ImageIndex) string {
	t.Helper()
	ref, err := name.ParseReference(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func busybox(t testing.TB, user string) v1.Image {
	t.Helper()
	img, err := testimages.BusyboxImage(user)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pauseBinary is the project's static pause program, as runletd embeds it.
func pauseBinary(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "daemon", "internal", "pause", "pause"))
	if err != nil {
		t.Fatalf("the built-in pause binary: %v", err)
	}
	return b
}

func pauseImage(t testing.TB) v1.Image {
	t.Helper()
	img, err := testimages.PauseImage(pauseBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func configDigest(t testing.TB, img v1.Image) string {
	t.Helper()
	d, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
