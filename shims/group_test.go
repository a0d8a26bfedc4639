package shims

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGroupIDFollowsSandboxAnnotationThenRuncGroupThenID(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{"annotations":{"io.kubernetes.cri.sandbox-id":"pod","io.containerd.runc.v2.group":"g"}}`, "pod"},
		{`{"annotations":{"io.containerd.runc.v2.group":"g"}}`, "g"},
		{`{"annotations":{}}`, "task"},
		{"", "task"},
	} {
		dir := t.TempDir()
		if tc.config != "" {
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got, err := groupID(dir, "task")
		if err != nil || got != tc.want {
			t.Fatalf("config %s: group %q, %v; want %q", tc.config, got, err, tc.want)
		}
	}
}

func TestGroupIDRejectsCorruptConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := groupID(dir, "task"); err == nil {
		t.Fatal("corrupt config.json accepted")
	}
}
