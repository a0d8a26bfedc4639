package conformance

import (
	"fmt"
	"regexp"
	"strings"
)

// matcher selects checks by name ("group/Check") as go test's -run and
// -skip do: the pattern is split at slashes and each part is an unanchored
// regexp matched against the name's part at the same level; a pattern
// with fewer parts says nothing about the deeper levels.
type matcher []*regexp.Regexp

func newMatcher(pattern string) (matcher, error) {
	if pattern == "" {
		return nil, nil
	}
	var m matcher
	for _, part := range strings.Split(pattern, "/") {
		re, err := regexp.Compile(part)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", pattern, err)
		}
		m = append(m, re)
	}
	return m, nil
}

// matches reports whether the pattern matches name; an empty pattern
// matches nothing (callers decide what "no pattern" means).
func (m matcher) matches(name string) bool {
	if len(m) == 0 {
		return false
	}
	parts := strings.Split(name, "/")
	if len(m) > len(parts) {
		return false
	}
	for i, re := range m {
		if !re.MatchString(parts[i]) {
			return false
		}
	}
	return true
}
