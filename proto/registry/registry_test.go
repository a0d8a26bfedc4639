package registry_test

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/runlet/runlet/proto/bootstrap/v1"
	_ "github.com/runlet/runlet/proto/events"
	_ "github.com/runlet/runlet/proto/events/ttrpc/v1"
	"github.com/runlet/runlet/proto/registry"
	_ "github.com/runlet/runlet/proto/runc/options"
	_ "github.com/runlet/runlet/proto/task/v2"
	_ "github.com/runlet/runlet/proto/task/v3"
	_ "github.com/runlet/runlet/proto/types"
	_ "github.com/runlet/runlet/proto/types/task"
)

// protoRoot is the proto/ directory, relative to this package.
const protoRoot = ".."

// TestEveryProtoFileRegistersOnlyInTheRunletRegistry fails when a .proto
// under proto/ is not imported above, or when its generated Go registers in
// protobuf-go's global registry (generated without useregistry), which would
// clash with containerd's API in a program that links both.
func TestEveryProtoFileRegistersOnlyInTheRunletRegistry(t *testing.T) {
	var onDisk, registered []string
	err := filepath.WalkDir(protoRoot, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".proto") {
			rel, _ := filepath.Rel(protoRoot, path)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	registry.Files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		registered = append(registered, fd.Path())
		return true
	})
	slices.Sort(onDisk)
	slices.Sort(registered)
	if !slices.Equal(onDisk, registered) {
		t.Errorf("registry.Files must hold every .proto under proto/:\n on disk:    %v\n registered: %v", onDisk, registered)
	}
	for _, path := range onDisk {
		if _, err := protoregistry.GlobalFiles.FindFileByPath(path); err == nil {
			t.Errorf("%s is registered in protoregistry.GlobalFiles", path)
		}
	}
}

func TestEveryRunletMessageResolvesOnlyThroughTheRunletRegistry(t *testing.T) {
	messages := 0
	registry.Files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Messages().Len(); i++ {
			name := fd.Messages().Get(i).FullName()
			messages++
			if _, err := registry.Types.FindMessageByName(name); err != nil {
				t.Errorf("registry.Types has no %s: %v", name, err)
			}
			if _, err := protoregistry.GlobalTypes.FindMessageByName(name); err == nil {
				t.Errorf("%s is registered in protoregistry.GlobalTypes", name)
			}
		}
		return true
	})
	if messages == 0 {
		t.Fatal("registry.Files holds no message")
	}
}
