package cio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/fifo"
)

// CRILogScheme is the stdio scheme runlet's shims write CRI logs for.
const CRILogScheme = "crilog"

// Options describe one container's stdio.
type Options struct {
	// ID names the FIFOs (a validated container id).
	ID string
	// FIFODir holds the FIFOs when the daemon copies (0700).
	FIFODir string
	// LogPath is the CRI log file, already confined to the pod's log
	// directory; "" discards output.
	LogPath string
	// LogDir is the pod's log directory: every open of LogPath, here and
	// in the shim, resolves beneath it with no symlink on the way. ""
	// confines only the last component.
	LogDir string
	// Stdin asks for a stdin FIFO; Terminal for a TTY (no stderr).
	Stdin, Terminal bool
	// ShimWritesLog is true for shims that take crilog:// stdio.
	ShimWritesLog bool
}

// IO is a container's stdio as given to the shim, and the daemon's side.
type IO struct {
	// Stdin, Stdout, Stderr are the names for the CreateTaskRequest.
	Stdin, Stdout, Stderr string
	Terminal              bool

	set  *fifo.Set       // nil when the shim writes the log
	log  *fifo.LogWriter // the daemon's log writer, nil otherwise
	stdn io.WriteCloser  // the daemon's end of stdin, nil without one
	outs []io.ReadCloser // the daemon's ends of stdout and stderr
	fans []*fanout       // stdout, then stderr: where the copies write
	done chan struct{}   // closed when the daemon's copies end
	once sync.Once

	stdinOnce sync.Once // closes stdn once, at an attach's end or Close
}

// New prepares a container's stdio. For a shim that writes the log the
// names are crilog:// URIs, unless the container has a stdin or a terminal
// (attach needs the daemon to see its output); otherwise FIFOs are made and
// their copy into the log starts (it waits for the shim to open its ends).
func New(ctx context.Context, o Options) (*IO, error) {
	if o.ShimWritesLog && o.LogPath != "" && !o.Stdin && !o.Terminal {
		return shimWritten(o)
	}
	set, err := fifo.NewSet(o.FIFODir, o.ID, o.Stdin, o.Terminal)
	if err != nil {
		return nil, err
	}
	c := &IO{Stdin: set.Stdin, Stdout: set.Stdout, Stderr: set.Stderr, Terminal: o.Terminal, set: set}
	if err := c.copyIntoLog(ctx, o); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Reattach resumes the daemon's side of a container's stdio after runletd
// restarted: the FIFOs named before (names) are opened again and copied
// into the log from where the file ends. With a shim that writes the log
// there is nothing to resume.
func Reattach(ctx context.Context, o Options, names [3]string) (*IO, error) {
	c := &IO{Stdin: names[0], Stdout: names[1], Stderr: names[2], Terminal: o.Terminal}
	if strings.HasPrefix(c.Stdout, CRILogScheme+"://") || c.Stdout == "" {
		c.done = closedChan()
		return c, nil
	}
	c.set = &fifo.Set{Dir: o.FIFODir, Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr, Terminal: o.Terminal}
	if err := c.copyIntoLog(ctx, o); err != nil {
		return nil, err
	}
	return c, nil
}

// shimWritten names the log for the shim, with the directory it must be
// opened beneath: the daemon holds nothing.
func shimWritten(o Options) (*IO, error) {
	uri := CRILogScheme + "://" + o.LogPath
	if o.LogDir != "" {
		dir, rel, err := fifo.SplitLogPath(o.LogDir, o.LogPath)
		if err != nil {
			return nil, err
		}
		uri = fifo.CRILogURI(dir, rel)
	}
	c := &IO{Stdout: uri, Terminal: o.Terminal, done: closedChan()}
	if !o.Terminal {
		c.Stderr = uri
	}
	return c, nil
}

// openLog opens the daemon's writer of the CRI log, beneath the pod's log
// directory.
func openLog(o Options) (*fifo.LogWriter, error) {
	if o.LogDir == "" {
		return fifo.OpenLog(o.LogPath)
	}
	dir, rel, err := fifo.SplitLogPath(o.LogDir, o.LogPath)
	if err != nil {
		return nil, err
	}
	return fifo.OpenLogIn(dir, rel)
}

// copyIntoLog starts copying the FIFOs into the CRI log (or discarding).
func (c *IO) copyIntoLog(ctx context.Context, o Options) error {
	pipes, err := c.set.Open(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	c.stdn = pipes.Stdin
	c.done = make(chan struct{})
	if o.LogPath != "" {
		if c.log, err = openLog(o); err != nil {
			closeReaders(pipes)
			return err
		}
	}
	var wg sync.WaitGroup
	for _, s := range []struct {
		r      io.ReadCloser
		stream fifo.Stream
	}{{pipes.Stdout, fifo.StreamStdout}, {pipes.Stderr, fifo.StreamStderr}} {
		if s.r == nil {
			continue
		}
		c.outs = append(c.outs, s.r)
		fan := newFanout(c.sink(s.stream))
		c.fans = append(c.fans, fan)
		wg.Add(1)
		go func(r io.ReadCloser, dst io.WriteCloser) {
			defer wg.Done()
			_, _ = io.Copy(dst, r)
			dst.Close()
			r.Close()
		}(s.r, fan)
	}
	go func() { wg.Wait(); close(c.done) }()
	return nil
}

// sink is where one stream goes: a stream of the log, or nowhere.
func (c *IO) sink(s fifo.Stream) io.WriteCloser {
	if c.log == nil {
		return nopWriteCloser{io.Discard}
	}
	return c.log.Stream(s)
}

// StdinWriter is the daemon's end of the container's stdin, nil without.
func (c *IO) StdinWriter() io.WriteCloser { return c.stdn }

// Wait returns when the daemon's copies have drained (the container's
// output ended) or ctx ends; at once when the shim writes the log.
func (c *IO) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reopen reopens the daemon's log writer (CRI ReopenContainerLog);
// FailedPrecondition when the shim writes the log (ask the shim instead).
func (c *IO) Reopen() error {
	if c.log == nil {
		return fmt.Errorf("the shim writes this log: %w", errdefs.ErrFailedPrecondition)
	}
	return c.log.Reopen()
}

// Close stops copying and removes the FIFOs; it is idempotent. Call Wait
// first to keep output the container wrote before it exited.
func (c *IO) Close() error {
	var errs []error
	c.once.Do(func() {
		if c.stdn != nil {
			c.stdinOnce.Do(func() { errs = append(errs, c.stdn.Close()) })
		}
		for _, r := range c.outs {
			_ = r.Close() // also closed when its copy ended
		}
		if c.log != nil {
			errs = append(errs, c.log.Close())
		}
		if c.set != nil {
			errs = append(errs, c.set.Close())
		}
	})
	return errors.Join(errs...)
}

func closeReaders(p *fifo.Pipes) {
	if p.Stdout != nil {
		p.Stdout.Close()
	}
	if p.Stderr != nil {
		p.Stderr.Close()
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}
