package bundletest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/runlet/runlet/bundle"
)

// Namespace is the namespace NewBundle creates bundles in.
const Namespace = "bundletest"

// NewBundle creates a bundle in a fresh state dir of the test: config.json
// from bundle.DefaultSpec running args, and a BusyboxRootfs in rootfs/.
// Its ID is unique, derived from the test name, and usable as a runc/crun
// container id. t.Cleanup deletes the bundle (rootfs mounts included).
// Tests adjust the spec with bundle.ReadSpec and bundle.WriteSpec.
func NewBundle(t testing.TB, args ...string) *bundle.Bundle {
	t.Helper()
	id := UniqueID(t)
	s := bundle.DefaultSpec(id, bundle.RootfsDir, args)
	// A cgroup without a parent of its own: deleting the container removes
	// every cgroup directory the test caused.
	s.Linux.CgroupsPath = "/" + id
	spec, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := bundle.New(ctx, t.TempDir(), Namespace, id, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Delete(ctx); err != nil {
			t.Errorf("cleanup bundle %s: %v", id, err)
		}
	})
	BusyboxRootfs(t, b.Rootfs())
	return b
}

var (
	notIDChars = regexp.MustCompile(`[^A-Za-z0-9]+`)
	edgeDashes = regexp.MustCompile(`^-+|-+$`)
)

// UniqueID returns a valid, unique container id derived from the test name.
func UniqueID(t testing.TB) string {
	var random [4]byte
	if _, err := rand.Read(random[:]); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(random[:])
	name := notIDChars.ReplaceAllString(t.Name(), "-")
	if max := bundle.MaxIDLength - len(suffix) - 1; len(name) > max {
		name = name[:max]
	}
	id := edgeDashes.ReplaceAllString(name, "")
	if id == "" {
		return suffix
	}
	return id + "-" + suffix
}
