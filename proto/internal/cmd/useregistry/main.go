// Command useregistry rewrites protoc-gen-go output so that the file and its
// types register in github.com/runlet/runlet/proto/registry instead of
// protobuf-go's global registries (see that package for why). make proto and
// make check-proto run it on every generated *.pb.go after protoc:
//
//	go run ./proto/internal/cmd/useregistry DIR
//
// rewrites, in place, every *.pb.go under DIR that protoc-gen-go wrote.
// It fails when the generated code does not have the shape it expects, so a
// new protoc-gen-go cannot silently fall back to global registration.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: useregistry DIR")
		os.Exit(2)
	}
	if err := rewriteTree(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "useregistry:", err)
		os.Exit(1)
	}
}

func rewriteTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pb.go") || strings.HasSuffix(path, "_ttrpc.pb.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out, err := useRegistry(src)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return os.WriteFile(path, out, 0o644)
	})
}
