package shimtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/fifo"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runlet/runlet/bundle"
	"github.com/runlet/runlet/bundle/bundletest"
	"github.com/runlet/runlet/proto/types"
)

// BundleOptions shape a test container.
type BundleOptions struct {
	// ID of the container; empty: NewID("c").
	ID   string
	Args []string
	// Annotations are added to the spec (grouping labels).
	Annotations map[string]string
	// Terminal sets process.terminal.
	Terminal bool
	// Resources replace the spec's linux.resources (devices kept).
	Resources *specs.LinuxResources
	// RootfsInBundle puts the busybox tree directly in bundle/rootfs and
	// passes no rootfs mount; by default the tree lives elsewhere and the
	// Create request carries a bind mount of it, as a snapshotter's would.
	RootfsInBundle bool
	// Modify edits the spec last.
	Modify func(*specs.Spec)
}

// Bundle is a test container's bundle.
type Bundle struct {
	ID   string
	Path string
	// RootfsSource is where the busybox tree lives.
	RootfsSource string
	// Rootfs is what a Create request passes (nil with RootfsInBundle).
	Rootfs []*types.Mount
	Spec   *specs.Spec
	// CgroupsPath is linux.cgroupsPath: /runlet-<namespace>/<id>.
	CgroupsPath string
}

// RootfsTarget is where the shim must mount the rootfs: bundle/rootfs.
func (b *Bundle) RootfsTarget() string { return bundle.RootfsPath(b.Path) }

// NewBundle writes a busybox bundle with a `log` FIFO whose read end the
// harness holds and copies into the test log, as containerd does. The
// cleanup fails the test when anything is still mounted under the bundle.
func (e *Env) NewBundle(opts BundleOptions) *Bundle {
	t := e.T
	t.Helper()
	id := opts.ID
	if id == "" {
		id = NewID("c")
	}
	cgroupsPath := "/" + CgroupParent(e.Namespace) + "/" + id
	spec := bundle.DefaultSpec(id, bundle.RootfsDir, opts.Args)
	spec.Linux.CgroupsPath = cgroupsPath
	spec.Process.Terminal = opts.Terminal
	if opts.Annotations != nil {
		spec.Annotations = map[string]string{}
		for k, v := range opts.Annotations {
			spec.Annotations[k] = v
		}
	}
	if opts.Resources != nil {
		r := *opts.Resources
		r.Devices = spec.Linux.Resources.Devices
		spec.Linux.Resources = &r
	}
	if opts.Modify != nil {
		opts.Modify(spec)
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := bundle.New(ctx, filepath.Join(e.Dir, "bundles"), e.Namespace, id, data)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.bundles = append(e.bundles, b.Path)
	e.mu.Unlock()
	t.Cleanup(func() {
		if mounts := MountsUnder(b.Path); len(mounts) > 0 {
			t.Errorf("leak: still mounted under bundle %s after the test: %v", id, mounts)
		}
		if err := b.Delete(ctx); err != nil {
			t.Errorf("cleanup bundle %s: %v", id, err)
		}
	})
	tb := &Bundle{ID: id, Path: b.Path, Spec: spec, CgroupsPath: cgroupsPath}
	if opts.RootfsInBundle {
		tb.RootfsSource = b.Rootfs()
		e.busyboxRootfs(b.Rootfs())
	} else {
		tb.RootfsSource = filepath.Join(e.Dir, "rootfs", id)
		if err := os.MkdirAll(tb.RootfsSource, 0o755); err != nil {
			t.Fatal(err)
		}
		e.busyboxRootfs(tb.RootfsSource)
		tb.Rootfs = []*types.Mount{{Type: "bind", Source: tb.RootfsSource, Options: []string{"rbind", "rw"}}}
	}
	e.openLog(id, b.Path)
	return tb
}

// busyboxRootfs fills dir with a busybox root filesystem, removed again
// at cleanup (after unmounting what a shim left there). Without a static
// busybox the test is skipped.
func (e *Env) busyboxRootfs(dir string) {
	t := e.T
	t.Helper()
	t.Cleanup(func() {
		if err := bundletest.RemoveBusyboxRootfs(context.Background(), dir); err != nil {
			t.Errorf("cleanup rootfs %s: %v", dir, err)
		}
	})
	src, err := bundletest.StaticBusybox(e.Target.Busybox)
	if errdefs.IsNotFound(err) {
		t.Skip(err)
	}
	if err == nil {
		err = bundletest.WriteBusyboxRootfsFrom(dir, src)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// openLog creates bundle/log and copies whatever a shim writes there into
// the test log until cleanup.
func (e *Env) openLog(id, dir string) {
	t := e.T
	f, err := fifo.OpenFifo(context.Background(), filepath.Join(dir, "log"), syscall.O_RDONLY|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700)
	if err != nil {
		t.Fatalf("log fifo: %v", err)
	}
	var (
		mu     sync.Mutex
		closed bool
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			mu.Lock()
			if !closed {
				t.Logf("shim log [%s]: %s", id, sc.Text())
			}
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		closed = true
		mu.Unlock()
		f.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Logf("log reader of %s did not stop", id)
		}
	})
}

// SafeBuffer is a bytes buffer safe for one writer and many readers that
// can wait for content.
type SafeBuffer struct {
	mu      sync.Mutex
	buf     []byte
	changed chan struct{}
}

func NewSafeBuffer() *SafeBuffer { return &SafeBuffer{changed: make(chan struct{})} }

func (b *SafeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	return len(p), nil
}

func (b *SafeBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

func (b *SafeBuffer) String() string { return string(b.Bytes()) }

// WaitFor blocks until pred accepts the content.
func (b *SafeBuffer) WaitFor(ctx context.Context, pred func([]byte) bool) error {
	for {
		b.mu.Lock()
		ok := pred(b.buf)
		ch := b.changed
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var errClosed = errors.New("closed")

// copyUntilEOF copies r to w and closes done at EOF or error.
func copyUntilEOF(w io.Writer, r io.Reader, done chan<- error) {
	_, err := io.Copy(w, r)
	done <- err
	close(done)
}
