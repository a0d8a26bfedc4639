package cni

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeStatusPlugin installs a shell plugin whose STATUS runs statusBody.
func writeStatusPlugin(t *testing.T, name, statusBody string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\nif [ \"$CNI_COMMAND\" = STATUS ]; then\n" + statusBody + "\nfi\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStatusAsksCNI11PluginsAndReportsTheirRefusal(t *testing.T) {
	conf := t.TempDir()
	writeJSON(t, filepath.Join(conf, "10-net.conflist"), map[string]any{
		"cniVersion": "1.1.0", "name": "net", "plugins": []any{map[string]any{"type": "rlt-status"}},
	})
	refusing := writeStatusPlugin(t, "rlt-status",
		`echo '{"cniVersion":"1.1.0","code":50,"msg":"no uplink yet"}'; exit 1`)
	st := newNetwork(t, []string{refusing}, conf).Status(context.Background())
	if st.Ready || st.Reason != ReasonPluginNotReady || !strings.Contains(st.Message, "no uplink yet") {
		t.Fatalf("Status with a refusing plugin = %+v, want not ready, %s, with its message", st, ReasonPluginNotReady)
	}

	willing := writeStatusPlugin(t, "rlt-status", "exit 0")
	st = newNetwork(t, []string{willing}, conf).Status(context.Background())
	if !st.Ready || st.Reason != "" || st.Network != "net" {
		t.Fatalf("Status with a willing plugin = %+v, want ready", st)
	}
}
