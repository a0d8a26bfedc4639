package images

import (
	"context"
)

// Pull fetches ref (through its registry's mirrors) and registers it.
// It returns the image ID. Concurrent pulls of one reference share a single
// download. On any error nothing of the pull remains registered.
func (s *Service) Pull(ctx context.Context, ref string, auth *Auth) (string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	v, err, _ := s.pulls.Do(r.String(), func() (any, error) {
		return s.pull(ctx, r, auth)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (s *Service) pull(ctx context.Context, ref Reference, auth *Auth) (string, error) {
	src, err := s.reg.resolve(ctx, ref, auth)
	if err != nil {
		return "", err
	}
	s.log.DebugContext(ctx, "pulling", "ref", ref.String(), "from", src.host, "digest", src.topDigest)
	a := addition{img: src.img, repoDigests: []string{ref.Repo() + "@" + src.topDigest}, from: src.host, remote: true}
	if t := ref.TagRef(); t != "" {
		a.repoTags = []string{t}
	}
	img, err := s.add(ctx, a)
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "pulled image", "ref", ref.String(), "id", img.ID, "from", src.host)
	return img.ID, nil
}
