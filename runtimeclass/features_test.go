package runtimeclass

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/runlet/runlet/bundle/bundletest"
)

func TestInfoReportsOurShimAndItsRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a shim and runs runc")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed")
	}
	s, err := New("runc", map[string]Runtime{"runc": {Shim: bundletest.ShimBinary(t, "runlet-shim-runc-v2"), Options: map[string]any{"binary_name": "runc"}}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Resolve("")
	info, err := h.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != "runlet-shim-runc-v2" || info.GetFeatures() == nil || info.GetOptions() == nil {
		t.Fatalf("info %v", info)
	}
}

func TestInfoOfAShimWithoutInfoFails(t *testing.T) {
	const old = "/usr/bin/containerd-shim-runc-v2" // containerd 1.6 predates -info
	if _, err := os.Stat(old); err != nil {
		t.Skip("containerd 1.6's shim not installed")
	}
	s, err := New("c", map[string]Runtime{"c": {Shim: old}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Resolve("c")
	if _, err := h.Info(context.Background()); err == nil {
		t.Fatal("-info of containerd 1.6's shim succeeded")
	}
}

// User namespaces need only a runtime that joins one: runletd makes the
// id-mapped mounts itself.
func TestOCIFeaturesReadRecursiveReadOnlyAndUserNamespaces(t *testing.T) {
	for _, tc := range []struct {
		json string
		want Features
	}{
		{`{"mountOptions":["ro","rro"],"linux":{"namespaces":["pid","user"]}}`, Features{RecursiveReadOnlyMounts: true, UserNamespaces: true}},
		{`{"mountOptions":["ro"],"linux":{"namespaces":["pid"]}}`, Features{}},
		{`{"linux":{"namespaces":["user"],"mountExtensions":{"idmap":{"enabled":true}}}}`, Features{UserNamespaces: true}},
		{`{"linux":{"namespaces":["pid"],"mountExtensions":{"idmap":{"enabled":true}}}}`, Features{}},
		{``, Features{}},
		{`not json`, Features{}},
	} {
		if got := ociFeatures([]byte(tc.json)); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.json, got, tc.want)
		}
	}
}

// Debian's crun 1.8 has no `features` command; runlet's crun shim reports
// what it is known to support, so kubelet and critest use it.
func TestOurShimsReportRecursiveReadOnlyAndUserNamespacesForRuncAndCrun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the shims and runs the runtimes")
	}
	for _, rt := range []struct{ shim, binary string }{{"runlet-shim-runc-v2", "runc"}, {"runlet-shim-crun", "crun"}} {
		t.Run(rt.binary, func(t *testing.T) {
			if _, err := exec.LookPath(rt.binary); err != nil {
				t.Skipf("%s not installed", rt.binary)
			}
			s, err := New("x", map[string]Runtime{"x": {Shim: bundletest.ShimBinary(t, rt.shim)}})
			if err != nil {
				t.Fatal(err)
			}
			h, _ := s.Resolve("")
			if f := h.Features(context.Background()); !f.RecursiveReadOnlyMounts || !f.UserNamespaces {
				t.Fatalf("%s features %+v, want rro and user namespaces", rt.shim, f)
			}
		})
	}
}
