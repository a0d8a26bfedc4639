package images

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/runlet/runlet/daemon/internal/config"
)

// Auth is the credential of a pull request (CRI AuthConfig).
type Auth struct {
	Username, Password string
	Auth               string // base64 "user:password"
	IdentityToken      string // refresh token exchanged for a bearer token
	RegistryToken      string // bearer token sent as is
}

func (a *Auth) authenticator() authn.Authenticator {
	if a == nil || *a == (Auth{}) {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password,
		Auth: a.Auth, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken})
}

// endpoint is one place an image may be fetched from.
type endpoint struct {
	host      string // host[:port]
	plainHTTP bool
}

// registries knows the mirrors and which hosts may use plain HTTP.
type registries struct {
	mirrors   map[string]config.Mirror // read-only
	plainHTTP map[string]bool          // read-only
	transport http.RoundTripper
	platform  v1.Platform

	mu   sync.Mutex
	anon map[endpoint]*remote.Puller // anonymous pullers, pinged once per repository; guarded by mu
}

func newRegistries(cfg config.Images, platform v1.Platform) *registries {
	plain := map[string]bool{}
	for _, h := range cfg.PlainHTTPRegistries {
		plain[h] = true
	}
	for _, m := range cfg.Mirrors {
		for _, e := range m.Endpoints {
			if u, err := config.ParseEndpoint(e); err == nil && u.Scheme == "http" {
				plain[u.Host] = true
			}
		}
	}
	return &registries{mirrors: cfg.Mirrors, plainHTTP: plain, transport: newGuardTransport(plain, cfg.ImageLimits), platform: platform}
}

// endpoints lists, in order, where an image of registry host is looked for.
func (r *registries) endpoints(host string) []endpoint {
	m, mirrored := r.mirrors[host]
	var eps []endpoint
	for _, e := range m.Endpoints {
		if u, err := config.ParseEndpoint(e); err == nil {
			eps = append(eps, endpoint{host: u.Host, plainHTTP: u.Scheme == "http"})
		}
	}
	if !mirrored || m.Fallback() {
		eps = append(eps, endpoint{host: host, plainHTTP: r.plainHTTP[host]})
	}
	return eps
}

func (e endpoint) reference(ref Reference) (name.Reference, error) {
	var opts []name.Option
	if e.plainHTTP {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(e.host+"/"+ref.Repository, opts...)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %v: %w", e.host, err, errdefs.ErrInvalidArgument)
	}
	if ref.Digest != "" {
		return repo.Digest(ref.Digest), nil
	}
	return repo.Tag(ref.Tag), nil
}

func (r *registries) options(ctx context.Context, auth *Auth) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(r.transport),
		remote.WithAuth(auth.authenticator()),
		remote.WithPlatform(r.platform),
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 2}),
	}
}

// anonPuller is the endpoint's long-lived anonymous puller: it remembers
// each repository's ping and token, so a pull does not start with a new
// handshake. Requests with credentials get a puller of their own.
func (r *registries) anonPuller(ep endpoint) *remote.Puller {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.anon[ep]; ok {
		return p
	}
	p, err := remote.NewPuller(r.options(context.Background(), nil)...)
	if err != nil {
		return nil // unreachable: the options are fixed and valid
	}
	if r.anon == nil {
		r.anon = map[endpoint]*remote.Puller{}
	}
	r.anon[ep] = p
	return p
}

// source is a resolved image: where it came from and its manifest.
type source struct {
	host      string
	topDigest string // digest of what the reference names (index or manifest)
	img       v1.Image
}

// resolve tries each endpoint of ref's registry in order and returns the
// first that has the image.
func (r *registries) resolve(ctx context.Context, ref Reference, auth *Auth) (*source, error) {
	var errs []error
	for _, ep := range r.endpoints(ref.Registry) {
		src, err := r.resolveAt(ctx, ep, ref, auth)
		if err == nil {
			return src, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, joinEndpointErrors(ref, errs)
}

func (r *registries) resolveAt(ctx context.Context, ep endpoint, ref Reference, auth *Auth) (*source, error) {
	gref, err := ep.reference(ref)
	if err != nil {
		return nil, err
	}
	opts := r.options(ctx, auth)
	if auth == nil || *auth == (Auth{}) {
		opts = append(opts, remote.Reuse(r.anonPuller(ep)))
	}
	desc, err := remote.Get(gref, opts...)
	if err != nil {
		return nil, classify(ep.host, err)
	}
	img, err := pickImage(desc, r.platform)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", ep.host, err)
	}
	return &source{host: ep.host, topDigest: desc.Digest.String(), img: img}, nil
}

// pickImage returns the image a manifest names, or the platform's image of an index.
func pickImage(desc *remote.Descriptor, platform v1.Platform) (v1.Image, error) {
	switch {
	case desc.MediaType.IsImage():
		return desc.Image()
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("index %s: %v: %w", desc.Digest, err, errdefs.ErrFailedPrecondition)
		}
		for _, m := range im.Manifests {
			if m.Platform != nil && m.Platform.Satisfies(platform) && m.MediaType.IsImage() {
				return idx.Image(m.Digest)
			}
		}
		return nil, fmt.Errorf("index %s has no image for platform %s: %w", desc.Digest, platform, errdefs.ErrNotFound)
	default:
		return nil, fmt.Errorf("%s is a %q, not an image manifest or index: %w", desc.Digest, desc.MediaType, errdefs.ErrFailedPrecondition)
	}
}
