package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/runlet/runlet/bundle"
)

// ImageVolume is a CRI mount of an image (image volume source, KEP 4639)
// prepared for a container: a read-only view of the image's layers
// (snapshot imageVolumeKey) mounted on the host at imageVolumeDir, bound
// into the container from there.
type ImageVolume struct {
	Mount   int    `json:"mount"`    // index in the CRI config's mounts
	ImageID string `json:"image_id"` // the image the view shows
}

// imageVolumes prepares every CRI mount that names an image, as containerd
// 2.1 and CRI-O do: the image must be in the store (kubelet pulls it
// first), its layers are held and mounted read-only on the host, and the
// container binds the view (or its image_sub_path) read-only.
func (r *create) imageVolumes(ctx context.Context) error {
	for i, m := range r.cfg.GetMounts() {
		if m.GetImage().GetImage() == "" {
			continue
		}
		src, err := r.imageVolume(ctx, i, m)
		if err != nil {
			return err
		}
		if r.imageMounts == nil {
			r.imageMounts = map[*runtimeapi.Mount]string{}
		}
		r.imageMounts[m] = src
	}
	return nil
}

// imageVolume mounts the view of mount i's image and returns the host path
// the container binds.
func (r *create) imageVolume(ctx context.Context, i int, m *runtimeapi.Mount) (string, error) {
	field := fmt.Sprintf("mounts[%d]", i)
	if err := checkImageMount(field, m); err != nil {
		return "", err
	}
	img, err := r.s.o.Images.Get(m.GetImage().GetImage())
	if errdefs.IsNotFound(err) {
		return "", fmt.Errorf("%s.image: image %q is not in the image store (pull it first): %w", field, m.GetImage().GetImage(), errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s.image: %w", field, err)
	}
	key := imageVolumeKey(r.c.ID, i)
	mounts, err := r.s.o.Snapshots.View(ctx, key, img.ID)
	if err != nil {
		return "", fmt.Errorf("%s.image: view of image %s: %w", field, img.ID, err)
	}
	target := r.s.imageVolumeDir(r.c.ID, i)
	if err := r.makeImageVolumeDir(target); err != nil {
		return "", err
	}
	if err := bundle.MountAll(ctx, bundle.FromProto(mounts), target); err != nil {
		return "", fmt.Errorf("%s.image: mount image %s: %w", field, img.ID, err)
	}
	r.c.ImageVolumes = append(r.c.ImageVolumes, ImageVolume{Mount: i, ImageID: img.ID})
	return imageSubPath(field, target, m.GetImageSubPath())
}

// checkImageMount refuses what an image volume cannot be: writable (the
// CRI makes every image mount read-only, and critest wants readonly=false
// refused) or also a host path.
func checkImageMount(field string, m *runtimeapi.Mount) error {
	switch {
	case m.GetHostPath() != "":
		return fmt.Errorf("%s: host_path and image are mutually exclusive: %w", field, errdefs.ErrInvalidArgument)
	case !m.GetReadonly():
		return fmt.Errorf("%s.readonly: an image volume is read-only, readonly must be set: %w", field, errdefs.ErrInvalidArgument)
	}
	return nil
}

// imageSubPath resolves sub inside the mounted view (symlinks stay inside
// the image; the view is read-only, so it cannot change meanwhile). A sub
// path the image lacks is refused, as the CRI asks.
func imageSubPath(field, view, sub string) (string, error) {
	if sub == "" {
		return view, nil
	}
	p, err := resolveInRoot(view, sub)
	if err != nil {
		return "", fmt.Errorf("%s.image_sub_path %q: %w", field, sub, err)
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s.image_sub_path %q does not exist in the image: %w", field, sub, errdefs.ErrInvalidArgument)
	} else if err != nil {
		return "", fmt.Errorf("%s.image_sub_path %q: %w", field, sub, err)
	}
	return p, nil
}

// imageMount is specgen's ImageMount hook: the host path prepared for a
// CRI image mount.
func (r *create) imageMount(m *runtimeapi.Mount) (string, error) {
	p, ok := r.imageMounts[m]
	if !ok {
		return "", fmt.Errorf("image mount %s was not prepared: %w", m.GetContainerPath(), errdefs.ErrInvalidArgument)
	}
	return p, nil
}

// releaseImageVolumes unmounts a container's image volumes and drops their
// snapshots (which lets the image service free layers no one uses). It is
// idempotent, and works from the id alone (after a crash mid-create, too):
// the paths and snapshot keys derive from it.
func (s *Service) releaseImageVolumes(ctx context.Context, id string) error {
	dir := s.imageVolumesDir(id)
	if err := bundle.UnmountAll(ctx, dir); err != nil {
		return fmt.Errorf("unmount the image volumes of %s: %w", id, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the image volumes of %s: %w", id, err)
	}
	keys, err := s.o.Snapshots.Keys()
	if err != nil {
		return err
	}
	for _, key := range keys {
		if strings.HasPrefix(key, id+imageVolumeInfix) {
			if err := s.o.Snapshots.Remove(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// withImageRefs sets image_ref in the config's image mounts to the id of
// the image each one shows, as critest and KEP 5365 expect.
func (c *Container) withImageRefs(mounts []*runtimeapi.Mount) []*runtimeapi.Mount {
	for _, iv := range c.ImageVolumes {
		if iv.Mount < len(mounts) && mounts[iv.Mount].GetImage() != nil {
			mounts[iv.Mount].Image.ImageRef = iv.ImageID
		}
	}
	return mounts
}

func (s *Service) imageVolumesDir(id string) string { return filepath.Join(s.dir("image-volumes"), id) }

func (s *Service) imageVolumeDir(id string, i int) string {
	return filepath.Join(s.imageVolumesDir(id), strconv.Itoa(i))
}

// makeImageVolumeDir makes target 0700; in a user namespace pod target and
// its parents up to the state dir are 0711: an overlay view cannot be
// id-mapped, so the pod's root binds it from here and must be able to walk
// (not list) the path.
func (r *create) makeImageVolumeDir(target string) error {
	if err := os.MkdirAll(target, 0o700); err != nil {
		return err
	}
	if r.sbCfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions().GetMode() != runtimeapi.NamespaceMode_POD {
		return nil
	}
	for _, d := range []string{r.s.dir("image-volumes"), filepath.Dir(target), target} {
		if err := os.Chmod(d, 0o711); err != nil {
			return err
		}
	}
	return nil
}

// imageVolumeKey is the snapshot key of a container's image volume i.
// imageVolumeInfix joins a container id and a mount index into the key of
// an image volume's snapshot.
const imageVolumeInfix = "-iv"

func imageVolumeKey(id string, i int) string { return id + imageVolumeInfix + strconv.Itoa(i) }
