package runtimeclass

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	"github.com/runlet/runlet/proto/runc/options"
)

// fakeShim writes an executable file to stand in for a shim binary where
// only its presence matters.
func fakeShim(t *testing.T, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "shim")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveEmptyHandlerGivesDefaultRuntime(t *testing.T) {
	shim := fakeShim(t, 0o755)
	s, err := New("runc", map[string]Runtime{"runc": {Shim: shim}, "crun": {Shim: shim}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Resolve("")
	if err != nil || h.Name != "runc" || h.Shim != shim {
		t.Fatalf("Resolve(\"\") = %+v, %v", h, err)
	}
	if h, err := s.Resolve("crun"); err != nil || h.Name != "crun" {
		t.Fatalf("Resolve(crun) = %+v, %v", h, err)
	}
}

func TestResolveUnknownHandlerIsInvalidArgumentNamingKnownOnes(t *testing.T) {
	shim := fakeShim(t, 0o755)
	s, err := New("runc", map[string]Runtime{"runc": {Shim: shim}, "crun": {Shim: shim}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Resolve("nope")
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "crun, runc") {
		t.Fatalf("Resolve(nope) = %v", err)
	}
}

func TestNewRejectsBadRuntimesNamingTheKey(t *testing.T) {
	shim := fakeShim(t, 0o755)
	for _, tc := range []struct {
		name     string
		def      string
		runtimes map[string]Runtime
		want     string
	}{
		{"missing shim", "r", map[string]Runtime{"r": {Shim: "no-such-shim-binary"}}, "runtimes.r.shim"},
		{"not executable", "r", map[string]Runtime{"r": {Shim: fakeShim(t, 0o644)}}, "runtimes.r.shim"},
		{"empty shim", "r", map[string]Runtime{"r": {}}, "runtimes.r.shim"},
		{"bad name", "Bad_Name", map[string]Runtime{"Bad_Name": {Shim: shim}}, "runtimes.Bad_Name"},
		{"unknown option", "r", map[string]Runtime{"r": {Shim: shim, Options: map[string]any{"bogus": 1}}}, "runtimes.r.options"},
		{"ill-typed option", "r", map[string]Runtime{"r": {Shim: shim, Options: map[string]any{"binary_name": 3}}}, "runtimes.r.options"},
		{"unknown default", "x", map[string]Runtime{"r": {Shim: shim}}, "default_runtime"},
	} {
		_, err := New(tc.def, tc.runtimes)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}

func TestOptionsTableBecomesRuncOptionsAny(t *testing.T) {
	shim := fakeShim(t, 0o755)
	s, err := New("r", map[string]Runtime{
		"r": {Shim: shim, Options: map[string]any{"binary_name": "crun", "SystemdCgroup": true, "Root": "/run/x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Resolve("r")
	if h.Options.GetTypeUrl() != "containerd.runc.v1.Options" {
		t.Fatalf("type URL %q", h.Options.GetTypeUrl())
	}
	var o options.Options
	if err := proto.Unmarshal(h.Options.GetValue(), &o); err != nil {
		t.Fatal(err)
	}
	if o.GetBinaryName() != "crun" || !o.GetSystemdCgroup() || o.GetRoot() != "/run/x" {
		t.Fatalf("options %v", &o)
	}
}

func TestRuntimeWithoutOptionsHasNone(t *testing.T) {
	s, err := New("r", map[string]Runtime{"r": {Shim: fakeShim(t, 0o755)}})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Resolve("r"); h.Options != nil {
		t.Fatalf("options %v", h.Options)
	}
}
