package daemontest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Registry starts a real distribution registry (.tools/registry) on a free
// loopback port, storage in a temp dir, and returns its host:port. It
// serves plain HTTP.
func Registry(t testing.TB) string {
	t.Helper()
	host, _ := RegistryWith(t, "")
	return host
}

// RegistryWith is Registry with extraYAML added to its config (an auth
// section, say); it also returns the registry's process, whose log holds
// the requests it served. Deletion is enabled.
func RegistryWith(t testing.TB, extraYAML string) (string, *Process) {
	t.Helper()
	bin := Tool(t, "registry")
	dir := ShortTempDir(t)
	host := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s/data
  delete:
    enabled: true
http:
  addr: %s
%s`, dir, host, extraYAML)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := StartProcess(t, filepath.Join(dir, "registry.log"), bin, "serve", cfgPath)
	WaitFor(t, 15*time.Second, "the registry to answer /v2/", func() bool {
		if p.Exited() {
			t.Fatalf("registry exited:\n%s", p.LogText())
		}
		resp, err := http.Get("http://" + host + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
	})
	return host, p
}
