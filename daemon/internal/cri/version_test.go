package cri

import (
	"context"
	"regexp"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// semver is the regular expression semver.org 2.0.0 gives for a valid version.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func TestReleaseVersionIsSemverWithoutBuildMetadata(t *testing.T) {
	m := semver.FindStringSubmatch(ReleaseVersion)
	if m == nil || m[5] != "" {
		t.Fatalf("ReleaseVersion %q must be MAJOR.MINOR.PATCH[-PRE], the build adds +COMMIT", ReleaseVersion)
	}
}

func TestRuntimeVersionIsSemverWithTheCommitAsBuildMetadata(t *testing.T) {
	for _, tc := range []struct{ commit, want string }{
		{"3d84577", ReleaseVersion + "+3d84577"},
		{"3d84577-dirty", ReleaseVersion + "+3d84577-dirty"},
		{"", ReleaseVersion + "+unknown"},
		{"..", ReleaseVersion + "+unknown"},
		{"v0.1.0-3-g3d84577", ReleaseVersion + "+v0.1.0-3-g3d84577"},
		{"feature/x_y 2", ReleaseVersion + "+feature-x-y-2"},
	} {
		got := RuntimeVersion(tc.commit)
		if got != tc.want {
			t.Errorf("RuntimeVersion(%q) = %q, want %q", tc.commit, got, tc.want)
		}
		if !semver.MatchString(got) {
			t.Errorf("RuntimeVersion(%q) = %q is not semver", tc.commit, got)
		}
	}
}

func TestVersionReportsTheRuntimeVersionItWasBuiltWith(t *testing.T) {
	s := New(nil, Runtime{}, RuntimeVersion("3d84577"), nil)
	v, err := s.Version(context.Background(), &runtime.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.RuntimeName != "runlet" || v.RuntimeVersion != ReleaseVersion+"+3d84577" || v.RuntimeApiVersion != "v1" || v.Version != "0.1.0" {
		t.Fatalf("Version = %+v", v)
	}
}
