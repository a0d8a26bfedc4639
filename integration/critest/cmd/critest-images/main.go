// Command critest-images builds, offline, every image critest v1.37.0
// pulls and pushes them under their upstream repository paths to a
// plain-HTTP registry, for running critest by hand against a runtime whose
// mirrors send registry.k8s.io, k8s.gcr.io and gcr.io there (README.md).
// Run it from the repository after `make deps tools`:
//
//	go run ./integration/critest/cmd/critest-images -registry 127.0.0.1:5000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runlet/runlet/integration/critest/critestimages"
)

func main() {
	registry := flag.String("registry", "127.0.0.1:5000", "host:port of a plain-HTTP registry")
	dynamic := flag.String("busybox-dynamic", ".tools/busybox-dynamic/bin/busybox", "Debian's dynamically linked busybox (make deps extracts it)")
	static := flag.String("busybox-static", "/bin/busybox", "busybox-static's binary")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	n, err := run(ctx, *registry, *dynamic, *static)
	if err != nil {
		fmt.Fprintln(os.Stderr, "critest-images:", err)
		os.Exit(1)
	}
	fmt.Printf("pushed %d images to %s\n", n, *registry)
}

func run(ctx context.Context, registry, dynamic, static string) (int, error) {
	dir, err := os.MkdirTemp("", "critest-images-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	fixture := filepath.Join(dir, "fixture")
	if err := critestimages.BuildFixture(ctx, ".", fixture); err != nil {
		return 0, err
	}
	b, err := critestimages.NewBuilder(critestimages.Sources{StaticBusybox: static, DynamicBusybox: dynamic,
		Fixture: fixture, Pause: filepath.Join("daemon", "internal", "pause", "pause")})
	if err != nil {
		return 0, err
	}
	built, err := b.BuildAll()
	if err != nil {
		return 0, err
	}
	return len(built), critestimages.Push(ctx, registry, built)
}
