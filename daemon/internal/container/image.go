package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/daemon/internal/specgen"
)

// imageConfig is the part of an OCI image config a container uses.
type imageConfig struct {
	Config struct {
		Entrypoint []string            `json:"Entrypoint"`
		Cmd        []string            `json:"Cmd"`
		Env        []string            `json:"Env"`
		WorkingDir string              `json:"WorkingDir"`
		User       string              `json:"User"`
		StopSignal string              `json:"StopSignal"`
		Volumes    map[string]struct{} `json:"Volumes"`
	} `json:"config"`
}

// resolveImage finds the container's image (kubelet pulls it first:
// NotFound otherwise) and reads its config.
func (r *create) resolveImage(ctx context.Context) error {
	img, err := r.s.o.Images.Get(r.c.Image)
	if err != nil {
		return err
	}
	r.c.ImageID = img.ID
	r.c.ImageRef = img.ID
	if len(img.RepoDigests) > 0 {
		r.c.ImageRef = img.RepoDigests[0]
	}
	blob, err := r.s.o.Images.ReadBlob(img.ID)
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	var cfg imageConfig
	if err := json.Unmarshal(blob, &cfg); err != nil {
		return fmt.Errorf("image config: %v: %w", err, errdefs.ErrDataLoss)
	}
	c := cfg.Config
	r.image = specgen.ImageConfig{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir,
		User: c.User, StopSignal: c.StopSignal, Volumes: sortedKeys(c.Volumes)}
	r.c.StopSignal = c.StopSignal
	return nil
}

// userLookup resolves user names in the container's own rootfs, mounted
// read-only in a scratch directory for the lookup only.
func (r *create) userLookup() specgen.UserLookup {
	return func(user string) (uid, gid uint32, groups []uint32, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = r.withRootfs(ctx, func(dir string) error {
			var lerr error
			uid, gid, groups, lerr = specgen.LookupInRootfs(dir)(user)
			return lerr
		})
		return uid, gid, groups, err
	}
}

// withRootfs runs f with the container's rootfs mounted read-only in a
// scratch directory (before its task exists: nothing else mounts it).
func (r *create) withRootfs(ctx context.Context, f func(dir string) error) error {
	if err := os.MkdirAll(r.s.dir("fifo"), 0o700); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(r.s.dir("fifo"), "rootfs-")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := bundle.MountAll(ctx, bundle.FromProto(r.mounts), dir); err != nil {
		return fmt.Errorf("mount the rootfs: %w", err)
	}
	defer bundle.UnmountAll(context.WithoutCancel(ctx), dir)
	_ = unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, "")
	return f(dir)
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// marshal encodes a CRI config deterministically (map entries sorted), so
// that one config always gives the same bytes: a retry is told apart from
// another config by comparing them.
func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
