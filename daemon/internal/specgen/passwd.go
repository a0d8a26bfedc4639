package specgen

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	name     string
	uid, gid uint32
}

// groupEntry is one line of /etc/group.
type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// parsePasswd reads name:password:uid:gid:... lines, skipping comments and
// malformed lines as libc does.
func parsePasswd(r io.Reader) ([]passwdEntry, error) {
	var out []passwdEntry
	err := eachRecord(r, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 == nil && err2 == nil {
			out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid)})
		}
	})
	return out, err
}

// parseGroup reads name:password:gid:member,member lines.
func parseGroup(r io.Reader) ([]groupEntry, error) {
	var out []groupEntry
	err := eachRecord(r, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		g := groupEntry{name: f[0], gid: uint32(gid)}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out, err
}

func eachRecord(r io.Reader, fn func(fields []string)) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}

// resolveInDB implements UserLookup's rules on parsed files.
func resolveInDB(user string, users []passwdEntry, groups []groupEntry) (uint32, uint32, []uint32, error) {
	name, group, hasGroup := strings.Cut(user, ":")
	entry, found, err := findUser(name, users)
	if err != nil {
		return 0, 0, nil, err
	}
	gid := entry.gid
	if hasGroup {
		if gid, err = findGroup(group, groups); err != nil {
			return 0, 0, nil, err
		}
	}
	var members []uint32
	if found {
		for _, g := range groups {
			if slices.Contains(g.members, entry.name) {
				members = append(members, g.gid)
			}
		}
	}
	return entry.uid, gid, members, nil
}

// findUser finds a user by name or uid; a numeric uid without an entry is
// that uid with gid 0.
func findUser(name string, users []passwdEntry) (passwdEntry, bool, error) {
	uid, numErr := strconv.ParseUint(name, 10, 32)
	for _, u := range users {
		if (numErr == nil && u.uid == uint32(uid)) || (numErr != nil && u.name == name) {
			return u, true, nil
		}
	}
	if numErr == nil {
		return passwdEntry{uid: uint32(uid)}, false, nil
	}
	return passwdEntry{}, false, fmt.Errorf("no user %q in the container's /etc/passwd: %w", name, errdefs.ErrInvalidArgument)
}

func findGroup(name string, groups []groupEntry) (uint32, error) {
	if gid, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(gid), nil
	}
	for _, g := range groups {
		if g.name == name {
			return g.gid, nil
		}
	}
	return 0, fmt.Errorf("no group %q in the container's /etc/group: %w", name, errdefs.ErrInvalidArgument)
}
