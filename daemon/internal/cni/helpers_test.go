package cni

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

const pluginDir = "/usr/lib/cni"

func requirePlugins(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(pluginDir, name)); err != nil {
			t.Skipf("CNI plugin %s missing (apt-get install containernetworking-plugins): %v", name, err)
		}
	}
}

func newNetwork(t *testing.T, binDirs []string, confDir string, opts ...Option) *Network {
	t.Helper()
	n, err := New(binDirs, confDir, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
