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
	id, err := s.pulls.Do(ctx, r.String(), func(ctx context.Context) (string, error) {
		return s.pull(ctx, r, auth)
	})
	return id, classifyLocal(err)
}

func (s *Service) pull(ctx context.Context, ref Reference, auth *Auth) (string, error) {
	src, err := s.reg.resolve(ctx, ref, auth)
	if err != nil {
		return "", err
	}
	repoDigest := ref.Repo() + "@" + src.topDigest
	if id, ok, err := s.retag(repoDigest, ref.TagRef()); ok || err != nil {
		return id, err // the store has this very manifest: nothing to download
	}
	s.log.DebugContext(ctx, "pulling", "ref", ref.String(), "from", src.host, "digest", src.topDigest)
	a := addition{img: src.img, repoDigests: []string{repoDigest}, from: src.host, remote: true}
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

// retag points tag (if any) at the image that repoDigest names, when the
// store has it; ok reports whether it did. An image that already has the
// tag (and is pinned if it is the sandbox image) costs no write.
func (s *Service) retag(repoDigest, tag string) (id string, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok = s.refs[repoDigest]
	if !ok {
		return "", false, nil
	}
	pin := !s.images[id].Pinned && s.isSandboxImage([]string{tag, repoDigest})
	if (tag == "" || s.refs[tag] == id) && !pin {
		return id, true, nil
	}
	img := s.images[id].clone()
	img.Pinned = img.Pinned || pin
	if tag != "" && s.refs[tag] != id {
		if err := s.untagLocked(tag, id); err != nil {
			return "", true, err
		}
		img.RepoTags = append(img.RepoTags, tag)
	}
	if err := s.saveImageLocked(&img); err != nil {
		return "", true, err
	}
	if tag != "" {
		s.refs[tag] = id
	}
	return id, true, nil
}
