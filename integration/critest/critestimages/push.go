package critestimages

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// MirrorRef is where a mirror at host serves ref: the same repository path
// and tag under host ("registry.k8s.io/pause:3.9" -> "HOST/pause:3.9").
func MirrorRef(host, ref string) (string, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return "", err
	}
	return host + "/" + r.Context().RepositoryStr() + ":" + r.Identifier(), nil
}

// Push writes every built image, under each of its references, to the
// plain-HTTP registry at host (127.0.0.1:PORT).
func Push(ctx context.Context, host string, built []Built) error {
	for _, b := range built {
		for _, ref := range b.Refs {
			dst, err := MirrorRef(host, ref)
			if err != nil {
				return err
			}
			tag, err := name.NewTag(dst, name.Insecure)
			if err != nil {
				return err
			}
			if err := remote.Write(tag, b.Image, remote.WithContext(ctx)); err != nil {
				return fmt.Errorf("push %s as %s: %w", ref, dst, err)
			}
		}
	}
	return nil
}

// FixturePackage is the import path of the fixture program.
const FixturePackage = "github.com/runlet/runlet/integration/critest/critestimages/fixture"

// BuildFixture builds the fixture program, static, to out; dir is a
// directory inside this module.
func BuildFixture(ctx context.Context, dir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, FixturePackage)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", FixturePackage, err, strings.TrimSpace(string(b)))
	}
	return nil
}
