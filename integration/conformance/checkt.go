package conformance

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// checkT is the T of one check run by RunSuite, outside go test. Like
// *testing.T: Fatal and Skip end the check's goroutine, cleanups run last
// registered first once the check returns, a panic fails the check.
type checkT struct {
	name  string
	onLog func(line string)

	mu       sync.Mutex
	failed   bool
	skipped  bool
	reason   string // the skip reason, or the first failure
	log      []string
	cleanups []func()
}

var _ T = (*checkT)(nil)

func (c *checkT) Helper()      {}
func (c *checkT) Name() string { return c.name }

func (c *checkT) Log(args ...any)                 { c.logLine(fmt.Sprintln(args...)) }
func (c *checkT) Logf(format string, args ...any) { c.logLine(fmt.Sprintf(format, args...)) }

func (c *checkT) Error(args ...any)                 { c.fail(fmt.Sprintln(args...)) }
func (c *checkT) Errorf(format string, args ...any) { c.fail(fmt.Sprintf(format, args...)) }

func (c *checkT) Fatal(args ...any) { c.fail(fmt.Sprintln(args...)); runtime.Goexit() }
func (c *checkT) Fatalf(format string, args ...any) {
	c.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (c *checkT) Skip(args ...any) { c.skip(fmt.Sprintln(args...)); runtime.Goexit() }
func (c *checkT) Skipf(format string, args ...any) {
	c.skip(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (c *checkT) Failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

func (c *checkT) Cleanup(f func()) {
	c.mu.Lock()
	c.cleanups = append(c.cleanups, f)
	c.mu.Unlock()
}

// TempDir returns a new directory removed when the check's cleanups run.
func (c *checkT) TempDir() string {
	dir, err := os.MkdirTemp("", "conformance-")
	if err != nil {
		c.Fatalf("TempDir: %v", err)
	}
	c.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			c.Errorf("remove TempDir %s: %v", dir, err)
		}
	})
	return dir
}

func (c *checkT) logLine(msg string) {
	msg = strings.TrimSuffix(msg, "\n")
	c.mu.Lock()
	c.log = append(c.log, msg)
	onLog := c.onLog
	c.mu.Unlock()
	if onLog != nil {
		onLog(msg)
	}
}

func (c *checkT) fail(msg string) {
	c.logLine(msg)
	c.mu.Lock()
	if !c.failed {
		c.failed = true
		c.reason = strings.TrimSuffix(msg, "\n")
	}
	c.mu.Unlock()
}

func (c *checkT) skip(msg string) {
	c.logLine(msg)
	c.mu.Lock()
	c.skipped = true
	if !c.failed {
		c.reason = strings.TrimSuffix(msg, "\n")
	}
	c.mu.Unlock()
}

// run runs f, then every cleanup (those registered by cleanups too), each
// in a goroutine of its own so that a Fatal or a panic in one ends only
// that one.
func (c *checkT) run(f func(T)) {
	c.guarded(func() { f(c) })
	for {
		c.mu.Lock()
		n := len(c.cleanups)
		if n == 0 {
			c.mu.Unlock()
			return
		}
		last := c.cleanups[n-1]
		c.cleanups = c.cleanups[:n-1]
		c.mu.Unlock()
		c.guarded(last)
	}
}

func (c *checkT) guarded(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				c.fail(fmt.Sprintf("panic: %v\n%s", r, debug.Stack()))
			}
		}()
		f()
	}()
	<-done
}

// status is the outcome: a failure wins over a skip (as in go test).
func (c *checkT) status() (Status, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.failed:
		return Failed, c.reason
	case c.skipped:
		return Skipped, c.reason
	}
	return Passed, ""
}
