package critestimages

import (
	"archive/tar"
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

// libDirs are where this machine keeps shared libraries (Debian multiarch).
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}

// defaultBusybox is critest's default test image: Debian's dynamically
// linked busybox with the C library it loads. Its shell, unlike
// busybox-static's, runs ls from /bin/ls, so masking /bin/ls makes
// `sh -c ls` fail with "Permission denied" as the MaskedPaths spec wants.
// pgrep and ipcs, which neither busybox build has, are the fixture.
func (b *Builder) defaultBusybox() (v1.Image, error) {
	libs, err := sharedLibraries(b.src.DynamicBusybox)
	if err != nil {
		return nil, err
	}
	extra := b.fixtureFiles("usr/local/bin/critest-fixture", 0o755, "usr/bin/pgrep", "usr/bin/ipcs")
	extra = append(extra, dir("usr/bin/"), dir("lib/"), dir("lib/x86_64-linux-gnu/"), dir("lib64/"))
	for _, l := range libs {
		data, err := os.ReadFile(l.host)
		if err != nil {
			return nil, err
		}
		extra = append(extra, testimages.File{Name: l.image, Mode: 0o755, Data: data})
		if l.link != "" {
			extra = append(extra, testimages.File{Name: l.link, Mode: 0o777, Type: tar.TypeSymlink, Link: "/" + l.image})
		}
	}
	files, err := busyboxRoot(b.src.DynamicBusybox, extra)
	if err != nil {
		return nil, err
	}
	layer, err := testimages.Layer(files)
	if err != nil {
		return nil, err
	}
	return testimages.Image(config("", "sh"), layer)
}

// library is one shared object: the host file, its path in the image and,
// for the program interpreter, the path the binary names (a symlink).
type library struct{ host, image, link string }

// sharedLibraries lists the interpreter and every library bin needs,
// transitively, found in libDirs.
func sharedLibraries(bin string) ([]library, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, fmt.Errorf("%w (make deps extracts Debian's busybox package)", err)
	}
	defer f.Close()
	var libs []library
	interp, err := interpreter(f)
	if err != nil {
		return nil, err
	}
	if interp != "" {
		real, err := filepath.EvalSymlinks(interp)
		if err != nil {
			return nil, err
		}
		l := library{host: real, image: path.Join("lib/x86_64-linux-gnu", filepath.Base(real))}
		if want := interp[1:]; want != l.image {
			l.link = want
		}
		libs = append(libs, l)
	}
	seen := map[string]bool{}
	queue, err := f.ImportedLibraries()
	if err != nil {
		return nil, err
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		host, err := findLibrary(name)
		if err != nil {
			return nil, err
		}
		libs = append(libs, library{host: host, image: "lib/x86_64-linux-gnu/" + name})
		more, err := importsOf(host)
		if err != nil {
			return nil, err
		}
		queue = append(queue, more...)
	}
	return libs, nil
}

func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", err
			}
			return string(b[:len(b)-1]), nil // NUL-terminated
		}
	}
	return "", nil
}

func findLibrary(name string) (string, error) {
	for _, d := range libDirs {
		p := filepath.Join(d, name)
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return real, nil
		}
	}
	return "", fmt.Errorf("shared library %s not found in %v", name, libDirs)
}

func importsOf(lib string) ([]string, error) {
	f, err := elf.Open(lib)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ImportedLibraries()
}

// sortDirsFirst puts directories before other entries (stable), so every
// entry's parent precedes it in the tar.
func sortDirsFirst(files []testimages.File) []testimages.File {
	slices.SortStableFunc(files, func(a, b testimages.File) int {
		da, db := a.Type == tar.TypeDir, b.Type == tar.TypeDir
		switch {
		case da && !db:
			return -1
		case db && !da:
			return 1
		}
		return 0
	})
	return files
}
