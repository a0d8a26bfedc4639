package shims

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"time"

	runc "github.com/containerd/go-runc"
	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"

	taskv2 "github.com/runlet/runlet/proto/task/v2"
	taskv3 "github.com/runlet/runlet/proto/task/v3"
	"github.com/runlet/runlet/shims/internal/events"
	"github.com/runlet/runlet/shims/internal/reaper"
)

// listenFD is the fd start hands the listening socket on (ExtraFiles[0]).
const listenFD = 3

// serve runs the forked server: it reaps children, serves the task API on
// the inherited socket until the service asks to shut down, then removes
// the socket and returns.
func serve(ctx context.Context, cfg Config, f *flags) error {
	setupLog(f.debug)
	runc.Monitor = reaper.Default
	if err := reaper.SetSubreaper(); err != nil {
		return err
	}
	stopReaping := reapOnSIGCHLD()
	defer stopReaping()
	ln, err := inheritedListener()
	if err != nil {
		return err
	}
	defer os.Remove(f.socket)
	pub := events.New(os.Getenv("TTRPC_ADDRESS"), f.namespace)
	env, shutdown := newEnv(cfg, f, pub)
	svc, err := newService(ctx, cfg, env)
	if err != nil {
		closePublisher(pub)
		return err
	}
	trim := &trimmer{}
	server, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(serverInterceptor(trim)))
	if err != nil {
		return fmt.Errorf("ttrpc server: %w", err)
	}
	taskv2.RegisterTaskService(server, svc)
	taskv3.RegisterTaskService(server, svc)
	go server.Serve(ctx, ln)
	slog.Info("serving", "id", f.id, "namespace", f.namespace, "socket", f.socket)
	trim.arm()
	select {
	case <-shutdown:
	case <-ctx.Done():
	}
	// Queued events (the last /tasks/delete) leave before the connections
	// close, so a daemon that sees the shim go has seen them all.
	closePublisher(pub)
	return shutdownServer(server)
}

func newEnv(cfg Config, f *flags, pub Publisher) (*Env, <-chan struct{}) {
	shutdown := make(chan struct{})
	var once sync.Once
	env := &Env{
		ID: f.id, Namespace: f.namespace, Bundle: f.bundle,
		RuntimeBinary: cfg.RuntimeBinary, Publisher: pub,
		Shutdown: func() { once.Do(func() { close(shutdown) }) },
	}
	if raw, err := readInput(os.Stdin); err == nil && len(raw) > 0 {
		if opts, err := unmarshalOptions(raw); err == nil {
			env.Options = opts
		}
	}
	return env, shutdown
}

func inheritedListener() (net.Listener, error) {
	f := os.NewFile(listenFD, "socket")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("inherited socket: %w", err)
	}
	return ln, nil
}

// reapOnSIGCHLD reaps children whenever SIGCHLD arrives and ignores
// SIGPIPE (a daemon closing a FIFO must not kill the shim).
func reapOnSIGCHLD() (stop func()) {
	signal.Ignore(unix.SIGPIPE)
	ch := make(chan os.Signal, 32)
	signal.Notify(ch, unix.SIGCHLD)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				reaper.Default.Reap()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// shutdownServer lets in-flight calls (the Shutdown call among them)
// answer before the listener and connections close.
func shutdownServer(server *ttrpc.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		server.Close()
	}
	return nil
}

func closePublisher(pub *events.Publisher) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pub.Close(ctx)
}
