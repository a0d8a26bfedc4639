package specgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// userString picks the user as containerd does: run_as_username, else
// run_as_user, else the image's user; run_as_group replaces the group.
// run_as_group without a user is invalid, as the CRI demands.
func userString(sc *runtimeapi.LinuxContainerSecurityContext, imageUser string) (string, error) {
	const field = "linux.security_context."
	if sc.GetRunAsUsername() != "" && sc.GetRunAsUser() != nil {
		return "", invalidf(field+"run_as_username", "only one of run_as_user and run_as_username may be set")
	}
	user := imageUser
	switch {
	case sc.GetRunAsUsername() != "":
		user = sc.GetRunAsUsername()
	case sc.GetRunAsUser() != nil:
		if err := checkID(field+"run_as_user", sc.GetRunAsUser().GetValue()); err != nil {
			return "", err
		}
		user = strconv.FormatInt(sc.GetRunAsUser().GetValue(), 10)
	}
	if g := sc.GetRunAsGroup(); g != nil {
		if sc.GetRunAsUsername() == "" && sc.GetRunAsUser() == nil {
			return "", invalidf(field+"run_as_group", "set without run_as_user or run_as_username")
		}
		if err := checkID(field+"run_as_group", g.GetValue()); err != nil {
			return "", err
		}
		name, _, _ := strings.Cut(user, ":")
		user = name + ":" + strconv.FormatInt(g.GetValue(), 10)
	}
	return user, nil
}

func checkID(field string, id int64) error {
	if id < 0 || id > 1<<32-2 {
		return invalidf(field, "%d is not a valid id", id)
	}
	return nil
}

// resolveUser turns a user string into the process user. With the Merge
// policy the gids of the user's /etc/group memberships are added; in both
// policies the supplemental groups and the primary gid are (containerd's
// fix for CVE-2023-25173: the primary group is always among the
// additional gids).
func resolveUser(user string, lookup UserLookup, supplemental []int64, policy runtimeapi.SupplementalGroupsPolicy) (specs.User, error) {
	if user == "" {
		user = "0"
	}
	uid, gid, members, err := lookupUser(user, lookup)
	if err != nil {
		return specs.User{}, err
	}
	gids := []uint32{gid}
	switch policy {
	case runtimeapi.SupplementalGroupsPolicy_Merge:
		gids = append(gids, members...)
	case runtimeapi.SupplementalGroupsPolicy_Strict:
	default:
		return specs.User{}, invalidf("linux.security_context.supplemental_groups_policy", "unknown policy %d", policy)
	}
	for _, g := range supplemental {
		if err := checkID("linux.security_context.supplemental_groups", g); err != nil {
			return specs.User{}, err
		}
		gids = append(gids, uint32(g))
	}
	slices.Sort(gids)
	return specs.User{UID: uid, GID: gid, AdditionalGids: slices.Compact(gids)}, nil
}

// lookupUser resolves user with lookup, or numerically without one.
func lookupUser(user string, lookup UserLookup) (uid, gid uint32, members []uint32, err error) {
	if lookup != nil {
		uid, gid, members, err = lookup(user)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("user %q: %w", user, err)
		}
		return uid, gid, members, nil
	}
	name, group, _ := strings.Cut(user, ":")
	u, err1 := strconv.ParseUint(name, 10, 32)
	g, err2 := uint64(0), error(nil)
	if group != "" {
		g, err2 = strconv.ParseUint(group, 10, 32)
	}
	if err1 != nil || err2 != nil {
		return 0, 0, nil, fmt.Errorf("user %q: names need the container's /etc/passwd: %w", user, errdefs.ErrInvalidArgument)
	}
	return uint32(u), uint32(g), nil, nil
}
