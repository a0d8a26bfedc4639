package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// maxMountData is the longest option string mount(2) is given directly. The
// kernel copies at most one page of data; like containerd we keep headroom.
func maxMountData() int { return os.Getpagesize() - 512 }

// mountOverlayCompact mounts an overlay whose options exceed maxMountData by
// rewriting the lowerdirs relative to their common parent and mounting from
// a thread whose working directory is that parent.
func mountOverlayCompact(m Mount, point string, flags uintptr, options []string) error {
	dir, compacted, err := compactLowerdirs(options)
	if err != nil {
		return err
	}
	data := strings.Join(compacted, ",")
	if len(data) >= os.Getpagesize() {
		return fmt.Errorf("overlay options are %d bytes even relative to %s, page size is %d: %w",
			len(data), dir, os.Getpagesize(), errdefs.ErrInvalidArgument)
	}
	return mountErr(mountFromDir(dir, m.Source, point, m.Type, flags, data), m, point)
}

// compactLowerdirs returns the common parent of the lowerdirs and options
// with the lowerdirs made relative to it. upperdir and workdir stay
// absolute.
func compactLowerdirs(options []string) (string, []string, error) {
	idx := -1
	for i, o := range options {
		if strings.HasPrefix(o, "lowerdir=") {
			idx = i
		}
	}
	if idx < 0 {
		return "", nil, fmt.Errorf("overlay options too long and no lowerdir to shorten: %w", errdefs.ErrInvalidArgument)
	}
	lowers := strings.Split(strings.TrimPrefix(options[idx], "lowerdir="), ":")
	parent := commonParent(lowers)
	if parent == "" {
		return "", nil, fmt.Errorf("overlay lowerdirs share no absolute parent: %w", errdefs.ErrInvalidArgument)
	}
	for i, l := range lowers {
		rel, err := filepath.Rel(parent, l)
		if err != nil {
			return "", nil, fmt.Errorf("overlay lowerdir %s: %w: %w", l, err, errdefs.ErrInvalidArgument)
		}
		lowers[i] = rel
	}
	out := append([]string(nil), options...)
	out[idx] = "lowerdir=" + strings.Join(lowers, ":")
	return parent, out, nil
}

// commonParent returns the deepest directory that contains every path in
// paths, or "" when a path is not absolute.
func commonParent(paths []string) string {
	var common []string
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			return ""
		}
		// The parent of each path, so that a lowerdir never becomes ".".
		parts := strings.Split(filepath.Dir(filepath.Clean(p)), "/")
		if i == 0 {
			common = parts
			continue
		}
		n := 0
		for n < len(common) && n < len(parts) && common[n] == parts[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) <= 1 {
		return "/"
	}
	return strings.Join(common, "/")
}

// mountFromDir calls mount(2) with dir as the working directory, so relative
// paths in data resolve below dir. It runs on a locked OS thread that first
// unshares its filesystem attributes (CLONE_FS): the chdir never touches the
// working directory of the rest of the process. The thread stays locked, so
// the Go runtime retires it when the goroutine ends instead of reusing a
// thread whose cwd differs.
func mountFromDir(dir, source, target, fstype string, flags uintptr, data string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare fs attributes: %w", err)
			return
		}
		if err := unix.Chdir(dir); err != nil {
			errc <- fmt.Errorf("chdir %s: %w", dir, err)
			return
		}
		errc <- unix.Mount(source, target, fstype, flags, data)
	}()
	return <-errc
}
