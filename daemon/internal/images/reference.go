package images

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// Reference is a normalized image reference, spelled as kubelet spells it:
// docker.io/library/busybox:latest, registry.k8s.io/pause@sha256:...
type Reference struct {
	Registry   string // registry host, "docker.io" for Docker Hub
	Repository string // path inside the registry, "library/busybox"
	Tag        string // "" when the reference is by digest only
	Digest     string // "" when the reference is by tag
}

// ParseReference normalizes s as kubelet and containerd do (adding
// docker.io, library/ and :latest) with the reference grammar of
// github.com/distribution/reference. A malformed reference is
// errdefs.ErrInvalidArgument.
func ParseReference(s string) (Reference, error) {
	if strings.TrimSpace(s) == "" {
		return Reference{}, fmt.Errorf("image reference is empty: %w", errdefs.ErrInvalidArgument)
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return Reference{}, fmt.Errorf("image reference %q: %v: %w", s, err, errdefs.ErrInvalidArgument)
	}
	ref := Reference{Registry: reference.Domain(named), Repository: reference.Path(named)}
	if d, ok := named.(reference.Digested); ok {
		// A tag written before the digest ("repo:tag@sha256:...") is ignored: the digest decides.
		ref.Digest = d.Digest().String()
		if err := ValidateDigest(ref.Digest); err != nil {
			return Reference{}, err
		}
		return ref, nil
	}
	ref.Tag = "latest"
	if t, ok := named.(reference.Tagged); ok {
		ref.Tag = t.Tag()
	}
	return ref, nil
}

// Repo is registry/repository, the name without tag or digest.
func (r Reference) Repo() string { return r.Registry + "/" + r.Repository }

// String is the full normalized reference.
func (r Reference) String() string {
	if r.Digest != "" {
		return r.Repo() + "@" + r.Digest
	}
	return r.Repo() + ":" + r.Tag
}

// TagRef is repo:tag, or "" for a digest reference.
func (r Reference) TagRef() string {
	if r.Tag == "" {
		return ""
	}
	return r.Repo() + ":" + r.Tag
}

var digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// ValidateDigest accepts only "sha256:" and 64 lower-case hex digits, so a
// digest can safely become a file name.
func ValidateDigest(d string) error {
	if !digestRE.MatchString(d) {
		return fmt.Errorf("digest %q is not sha256:<64 hex>: %w", d, errdefs.ErrInvalidArgument)
	}
	return nil
}
