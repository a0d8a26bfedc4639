package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// threadNSPath names the network namespace of the calling OS thread.
func threadNSPath() string {
	return fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
}

// onLockedThread runs work on a new goroutine locked to its OS thread and
// waits for it. work reports whether the thread is back in its original
// namespace; only then is the thread unlocked and so reused by Go. Otherwise
// the goroutine exits still locked and the runtime ends the thread.
func onLockedThread(work func() (restored bool, err error)) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := work()
		if restored {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// switchedFrom moves the locked calling thread into another namespace with
// enter, runs fn there and switches back. restored is false when the thread
// could not be switched back.
func switchedFrom(enter func() error, fn func() error) (restored bool, err error) {
	orig, err := os.Open(threadNSPath())
	if err != nil {
		return true, fmt.Errorf("netns: open thread namespace: %w", err)
	}
	defer orig.Close()
	if err := enter(); err != nil {
		return true, err
	}
	err = fn()
	if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr != nil {
		return false, errors.Join(err, fmt.Errorf("netns: restore thread namespace: %w", serr))
	}
	return true, err
}

// pinNewNamespace unshares a new network namespace on a locked thread,
// bind-mounts it onto path and brings its loopback up.
func pinNewNamespace(path string) error {
	unshare := func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("netns: unshare network namespace: %w", err)
		}
		return nil
	}
	pin := func() error {
		if err := unix.Mount(threadNSPath(), path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("netns: bind mount namespace onto %s: %w", path, err)
		}
		return bringUpLoopback()
	}
	return onLockedThread(func() (bool, error) { return switchedFrom(unshare, pin) })
}

// Do runs fn on an OS thread inside the namespace. Goroutines that fn starts
// run in the caller's namespace, not this one; sockets fn opens stay in this
// namespace for their whole life.
func (n *NetNS) Do(fn func() error) error {
	if err := checkNetNS(n.path); err != nil {
		return err
	}
	target, err := os.Open(n.path)
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", n.path, err)
	}
	defer target.Close()
	enter := func() error {
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("netns: enter %s: %w", n.path, err)
		}
		return nil
	}
	return onLockedThread(func() (bool, error) { return switchedFrom(enter, fn) })
}
