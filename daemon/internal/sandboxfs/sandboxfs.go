package sandboxfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/runlet/runlet/bundle"
)

// ShmSize is the size of a pod's /dev/shm, as containerd's default.
const ShmSize = 64 << 20

// Options describe a pod's shared files.
type Options struct {
	Hostname string
	// DNS is the CRI DNSConfig; nil copies the host's resolv.conf.
	DNS *DNS
	// HostIPC: the pod uses the host's /dev/shm, no tmpfs is made.
	HostIPC bool
	// HostResolvConf is read when DNS is nil (default /etc/resolv.conf).
	HostResolvConf string
}

// DNS is the CRI DNSConfig.
type DNS struct {
	Servers, Searches, Options []string
}

// Files are the paths a pod's containers bind-mount.
type Files struct {
	Dir          string
	HostnamePath string
	HostsPath    string
	ResolvPath   string
	// ShmPath is "" with host IPC.
	ShmPath string
}

// Create makes the pod's directory dir/<id> and its files. On failure
// nothing is left.
func Create(ctx context.Context, dir, id string, o Options) (_ *Files, err error) {
	if err := bundle.ValidateID(id); err != nil {
		return nil, err
	}
	if err := validHostname(o.Hostname); err != nil {
		return nil, err
	}
	f := &Files{Dir: filepath.Join(dir, id)}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox root: %w", err)
	}
	if err := os.Mkdir(f.Dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("sandbox directory %s: %w", f.Dir, errdefs.ErrAlreadyExists)
		}
		return nil, fmt.Errorf("sandbox directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Remove(context.WithoutCancel(ctx))
		}
	}()
	if err := f.writeFiles(o); err != nil {
		return nil, err
	}
	if !o.HostIPC {
		if err := f.mountShm(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *Files) writeFiles(o Options) error {
	f.HostnamePath = filepath.Join(f.Dir, "hostname")
	f.HostsPath = filepath.Join(f.Dir, "hosts")
	f.ResolvPath = filepath.Join(f.Dir, "resolv.conf")
	resolv, err := resolvConf(o)
	if err != nil {
		return err
	}
	for path, content := range map[string]string{
		f.HostnamePath: o.Hostname + "\n",
		f.HostsPath:    hostsFile(),
		f.ResolvPath:   resolv,
	} {
		// 0644: containers running as any user read them.
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("sandbox file: %w", err)
		}
	}
	return nil
}

// hostsFile is the pod's /etc/hosts, as containerd writes it.
func hostsFile() string {
	return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
}

// resolvConf renders the CRI DNSConfig, or copies the host's file.
func resolvConf(o Options) (string, error) {
	if o.DNS == nil {
		path := o.HostResolvConf
		if path == "" {
			path = "/etc/resolv.conf"
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("host resolv.conf: %w", err)
		}
		return string(b), nil
	}
	var b strings.Builder
	for _, s := range o.DNS.Servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(o.DNS.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(o.DNS.Searches, " "))
	}
	if len(o.DNS.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(o.DNS.Options, " "))
	}
	return b.String(), nil
}

// validHostname accepts what the kernel's UTS name takes and a file line
// can hold: up to 64 bytes, no whitespace or control characters.
func validHostname(h string) error {
	if len(h) > 64 || strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("hostname %q: %w", h, errdefs.ErrInvalidArgument)
	}
	return nil
}
