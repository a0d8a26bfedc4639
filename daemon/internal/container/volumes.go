package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// declaredVolumes gives each volume the image config declares, and no CRI
// mount has as its container_path, a directory of its own under the
// container's persistent directory, filled with what the image holds at
// that path and bound read-write, as containerd does.
func (r *create) declaredVolumes(ctx context.Context) error {
	dsts := uncoveredVolumes(r.image.Volumes, r.cfg.GetMounts())
	if len(dsts) == 0 {
		return nil
	}
	dir := r.s.volumesDir(r.c.ID)
	// 0700: in a user namespace pod these are staged id-mapped under the
	// bundle by runletd, so the pod's root never walks this path.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("image volumes: %w", err)
	}
	return r.withRootfs(ctx, func(rootfs string) error {
		for i, dst := range dsts {
			host := filepath.Join(dir, strconv.Itoa(i))
			if err := fillVolume(host, rootfs, dst); err != nil {
				return fmt.Errorf("image volume %s: %w", dst, err)
			}
			r.extraMounts = append(r.extraMounts, &runtimeapi.Mount{ContainerPath: dst, HostPath: host})
		}
		return nil
	})
}

// uncoveredVolumes are the image's volume paths, cleaned and absolute,
// that no CRI mount replaces (containerd compares the cleaned paths only).
func uncoveredVolumes(volumes []string, mounts []*runtimeapi.Mount) []string {
	var out []string
	for _, v := range volumes {
		dst := path.Join("/", v)
		if dst == "/" {
			continue
		}
		covered := false
		for _, m := range mounts {
			if path.Clean(m.GetContainerPath()) == dst {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, dst)
		}
	}
	return out
}

// fillVolume makes host and copies into it what the rootfs holds at dst,
// if anything: a directory, whose owner and mode the volume takes.
func fillVolume(host, rootfs, dst string) error {
	if err := os.Mkdir(host, 0o755); err != nil {
		return err
	}
	src, err := resolveInRoot(rootfs, dst)
	if err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("the image holds a file there, not a directory: %w", errdefs.ErrInvalidArgument)
	}
	return copyTree(host, src)
}

// removeVolumes deletes a container's persistent directory (the data of
// its image's declared volumes).
func (s *Service) removeVolumes(id string) error {
	if err := os.RemoveAll(s.containerDir(id)); err != nil {
		return fmt.Errorf("remove the volumes of %s: %w", id, err)
	}
	return nil
}

// containerDir is a container's persistent directory, under runletd's
// root (its state when no root is set).
func (s *Service) containerDir(id string) string { return filepath.Join(s.containersDir(), id) }

func (s *Service) containersDir() string {
	if s.o.Root == "" {
		return filepath.Join(s.o.State, "containers")
	}
	return filepath.Join(s.o.Root, "containers")
}

func (s *Service) volumesDir(id string) string { return filepath.Join(s.containerDir(id), "volumes") }
