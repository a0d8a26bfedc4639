package cnitemplate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestDataHasContainerdsFieldsWithARoutePerFamily(t *testing.T) {
	cidrs, err := ParseCIDRs("10.88.1.0/24, fd00:1::/64,10.99.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	d := NewData(cidrs)
	if d.PodCIDR != "10.88.1.0/24" || !slices.Equal(d.PodCIDRRanges, []string{"10.88.1.0/24", "fd00:1::/64", "10.99.0.0/16"}) {
		t.Fatalf("data = %+v", d)
	}
	if !slices.Equal(d.Routes, []string{"0.0.0.0/0", "::/0"}) {
		t.Fatalf("routes = %v", d.Routes)
	}
}

func TestAMalformedCIDRIsInvalidArgument(t *testing.T) {
	if _, err := ParseCIDRs("10.88.1.0/24,10.88.2.0"); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), `"10.88.2.0"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRenderWritesTheConfigAndLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "tmpl")
	os.WriteFile(tmpl, []byte(`{"subnet": "{{.PodCIDR}}", "routes": [{{range $i, $r := .Routes}}{{if $i}},{{end}}"{{$r}}"{{end}}]}`), 0o644)
	conf := filepath.Join(dir, "net.d")
	p, err := Render(tmpl, conf, NewData([]string{"10.1.0.0/24"}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != `{"subnet": "10.1.0.0/24", "routes": ["0.0.0.0/0"]}` {
		t.Fatalf("rendered %q", b)
	}
	if entries, _ := os.ReadDir(conf); len(entries) != 1 {
		t.Fatalf("conf dir holds %d entries", len(entries))
	}
}

func TestABrokenTemplateIsFailedPreconditionAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "tmpl")
	os.WriteFile(tmpl, []byte(`{{.NoSuchField}}`), 0o644)
	conf := filepath.Join(dir, "net.d")
	if _, err := Render(tmpl, conf, NewData([]string{"10.1.0.0/24"})); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(conf); len(entries) != 0 {
		t.Fatalf("conf dir holds %d entries", len(entries))
	}
}
