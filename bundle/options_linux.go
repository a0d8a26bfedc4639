package bundle

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// mountOptions is a parsed option list: mount(2) flags, the propagation
// change applied after mounting, and the filesystem-specific data.
type mountOptions struct {
	flags       uintptr
	propagation uintptr
	data        []string
}

type flagOption struct {
	clear bool
	flag  uintptr
}

// flagOptions maps mount(8) option names to mount(2) flags.
var flagOptions = map[string]flagOption{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

// propagationOptions maps propagation option names to mount(2) flags.
var propagationOptions = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// unsupportedOptions would need more than one mount(2) call to honour.
var unsupportedOptions = map[string]string{
	"remount": "rootfs mounts create new mounts",
	"loop":    "loop devices are not set up",
}

// parseOptions splits mount(8)-style options into flags, propagation and
// data. Later options win over earlier ones ("ro,rw" is rw). Options that
// start with "X-" or "x-" are userspace-only by mount(8) convention and are
// dropped; every other unknown option is filesystem data.
func parseOptions(options []string) (mountOptions, error) {
	var o mountOptions
	for _, opt := range options {
		if reason, ok := unsupportedOptions[opt]; ok {
			return o, fmt.Errorf("mount option %q: %s: %w", opt, reason, errdefs.ErrNotImplemented)
		}
		if f, ok := flagOptions[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
			} else {
				o.flags |= f.flag
			}
			continue
		}
		if p, ok := propagationOptions[opt]; ok {
			o.propagation = p
			continue
		}
		if strings.HasPrefix(opt, "X-") || strings.HasPrefix(opt, "x-") {
			continue
		}
		o.data = append(o.data, opt)
	}
	return o, nil
}
