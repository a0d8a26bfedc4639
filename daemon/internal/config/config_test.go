package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// designConfig is the configuration of ARCHITECTURE.md §4, verbatim.
const designConfig = `
root    = "/var/lib/runlet"
state   = "/run/runlet"
address = "/run/runlet/runlet.sock"
default_runtime = "runc"

[runtimes.runc]
shim = "runlet-shim-runc-v2"
[runtimes.runc.options]
binary_name = "runc"

[runtimes.crun]
shim = "runlet-shim-crun"

[runtimes.containerd-runc]
shim = "/usr/bin/containerd-shim-runc-v2"

[images]
pause_image = ""
[images.mirrors."registry.k8s.io"]
endpoints = ["http://127.0.0.1:5000"]

[network]
cni_bin_dirs = ["/usr/lib/cni"]
cni_conf_dir = "/etc/cni/net.d"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "runlet.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadAcceptsTheDesignConfig(t *testing.T) {
	c, err := Load(writeConfig(t, designConfig))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Images.Mirrors["registry.k8s.io"].Endpoints; len(got) != 1 || got[0] != "http://127.0.0.1:5000" {
		t.Fatalf("mirror endpoints = %v", got)
	}
	if !c.Images.Mirrors["registry.k8s.io"].Fallback() {
		t.Fatal("fallback_to_host should default to true")
	}
	if c.Runtimes["runc"].Options["binary_name"] != "runc" {
		t.Fatalf("runc options = %v", c.Runtimes["runc"].Options)
	}
	if len(c.Runtimes) != 3 || c.LogLevel != "info" {
		t.Fatalf("runtimes=%d log_level=%q", len(c.Runtimes), c.LogLevel)
	}
}

func TestDefaultTextLoadsToDefault(t *testing.T) {
	c, err := Parse("default", []byte(DefaultText))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Root != d.Root || c.State != d.State || c.Address != d.Address || c.DefaultRuntime != d.DefaultRuntime {
		t.Fatalf("default text = %+v, Default() = %+v", c, d)
	}
	if len(c.Runtimes) != len(d.Runtimes) || c.Runtimes["runc"].Shim != d.Runtimes["runc"].Shim {
		t.Fatalf("runtimes = %+v", c.Runtimes)
	}
}

func TestEmptyFileGetsDefaults(t *testing.T) {
	c, err := Parse("empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Root != "/var/lib/runlet" || c.DefaultRuntime != "runc" || c.Runtimes["runc"].Shim == "" {
		t.Fatalf("%+v", c)
	}
}

func TestLoadErrorsNameFileKeyAndReason(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
	}{
		{"unknown top-level key", "rooot = \"/x\"\n", []string{"runlet.toml:1", "key rooot", "unknown key"}},
		{"unknown nested key", "[images]\npause = \"x\"\n", []string{"runlet.toml:2", "key images.pause", "unknown key"}},
		{"wrong type", "root = 5\n", []string{"runlet.toml:1", "key root"}},
		{"relative root", "root = \"var/lib\"\n", []string{"key root", "not an absolute path"}},
		{"bad log level", "log_level = \"loud\"\n", []string{"key log_level", `"loud"`}},
		{"unknown default runtime", "default_runtime = \"kata\"\n", []string{"key default_runtime", `"kata" is not a configured runtime`, "crun, runc"}},
		{"runtime without shim", "default_runtime = \"x\"\n[runtimes.x]\n", []string{"key runtimes.x.shim", "is required"}},
		{"bad runtime name", "default_runtime = \"Bad_Name\"\n[runtimes.Bad_Name]\nshim = \"s\"\n", []string{"key runtimes.Bad_Name", "DNS label"}},
		{"mirror endpoint without scheme", "[images.mirrors.\"registry.k8s.io\"]\nendpoints = [\"127.0.0.1:5000\"]\n",
			[]string{`key images.mirrors."registry.k8s.io".endpoints[0]`, "http:// or https://"}},
		{"mirror endpoint with a path", "[images.mirrors.\"docker.io\"]\nendpoints = [\"https://m.example/v2/x\"]\n",
			[]string{`endpoints[0]`, "no user, path"}},
		{"bad mirror host", "[images.mirrors.\"a/b\"]\nendpoints = [\"http://127.0.0.1:5000\"]\n", []string{`key images.mirrors."a/b"`, "not a registry host"}},
		{"unreachable mirror", "[images.mirrors.\"docker.io\"]\nfallback_to_host = false\n", []string{"endpoints", "could never be reached"}},
		{"bad pause image", "[images]\npause_image = \"BusyBox\"\n", []string{"key images.pause_image"}},
		{"long socket path", "address = \"/" + strings.Repeat("a", 120) + "\"\n", []string{"key address", "limit of a unix socket path"}},
		{"bad plain http host", "[images]\nplain_http_registries = [\"http://x\"]\n", []string{"key images.plain_http_registries[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file %s", msg, path)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadMissingFileNamesIt(t *testing.T) {
	_, err := Load("/nonexistent/runlet.toml")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/runlet.toml") {
		t.Fatalf("err = %v", err)
	}
}

func TestCDISpecDirsDefaultToContainerdsAndMustBeAbsolute(t *testing.T) {
	c, err := Parse("empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.CDISpecDirs, ",") != "/etc/cdi,/var/run/cdi" {
		t.Fatalf("cdi_spec_dirs = %v", c.CDISpecDirs)
	}
	c, err = Parse("off", []byte("cdi_spec_dirs = []\n"))
	if err != nil || len(c.CDISpecDirs) != 0 {
		t.Fatalf("cdi_spec_dirs = [] gives %v, %v", c.CDISpecDirs, err)
	}
	_, err = Parse("rel", []byte("cdi_spec_dirs = [\"/etc/cdi\", \"cdi\"]\n"))
	if err == nil || !strings.Contains(err.Error(), "cdi_spec_dirs[1]") {
		t.Fatalf("a relative dir: %v", err)
	}
}

func TestConfTemplateMustBeAbsolute(t *testing.T) {
	c, err := Parse("abs", []byte("[network]\nconf_template = \"/etc/runlet/cni.tmpl\"\n"))
	if err != nil || c.Network.ConfTemplate != "/etc/runlet/cni.tmpl" {
		t.Fatalf("conf_template = %q, %v", c.Network.ConfTemplate, err)
	}
	if _, err := Parse("rel", []byte("[network]\nconf_template = \"cni.tmpl\"\n")); err == nil || !strings.Contains(err.Error(), "network.conf_template") {
		t.Fatalf("a relative template: %v", err)
	}
}

func TestARuntimesBootstrapIsOptionsOrParams(t *testing.T) {
	c, err := Parse("ok", []byte("default_runtime = \"runc\"\n[runtimes.runc]\nshim = \"runlet-shim-runc-v2\"\nbootstrap = \"params\"\n"))
	if err != nil || c.Runtimes["runc"].Bootstrap != "params" {
		t.Fatalf("bootstrap = %q, %v", c.Runtimes["runc"].Bootstrap, err)
	}
	_, err = Parse("bad", []byte("default_runtime = \"runc\"\n[runtimes.runc]\nshim = \"runlet-shim-runc-v2\"\nbootstrap = \"json\"\n"))
	if err == nil || !strings.Contains(err.Error(), "runtimes.runc.bootstrap") {
		t.Fatalf("bootstrap = json: %v", err)
	}
}

func TestDefaultTextHasTheNewKeysWhereTheyBelong(t *testing.T) {
	c, err := Parse("default", []byte(DefaultText))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Runtimes["runc"].Bootstrap != "options" || d.Runtimes["runc"].Bootstrap != "options" {
		t.Fatalf("runc bootstrap: text %q, Default %q", c.Runtimes["runc"].Bootstrap, d.Runtimes["runc"].Bootstrap)
	}
	if _, ok := c.Runtimes["runc"].Options["bootstrap"]; ok {
		t.Fatal("bootstrap landed among the runtime options")
	}
	if strings.Join(c.CDISpecDirs, ",") != strings.Join(d.CDISpecDirs, ",") || c.Network.ConfTemplate != "" {
		t.Fatalf("cdi_spec_dirs %v, conf_template %q", c.CDISpecDirs, c.Network.ConfTemplate)
	}
}

func TestImageLimitsParseAndBadOnesNameTheirKey(t *testing.T) {
	c, err := Parse("limits", []byte("[images]\nimage_pull_progress_timeout = \"2s\"\nmax_layer_entries = 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Images.ImagePullProgressTimeout; got != Duration(2e9) || c.Images.MaxLayerEntries != 1000 {
		t.Fatalf("limits = %+v", c.Images.ImageLimits)
	}
	if c.Images.MaxConfigBytes != DefaultImageLimits().MaxConfigBytes {
		t.Fatalf("an unset limit is %d, want the default", c.Images.MaxConfigBytes)
	}
	for text, key := range map[string]string{
		"[images]\nimage_pull_progress_timeout = \"soon\"\n": "images.image_pull_progress_timeout",
		"[images]\nmax_layer_bytes = -1\n":                   "images.max_layer_bytes",
	} {
		_, err := Parse("limits", []byte(text))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Fatalf("%q: error %v does not name %s", text, err, key)
		}
	}
}
