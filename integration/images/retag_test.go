package images

import (
	"slices"
	"testing"
)

func TestAPullOfAMovedTagMovesItAndKeepsTheOldImageByDigest(t *testing.T) {
	needRoot(t)
	reg := startRegistry(t, "")
	old, newer := busybox(t, ""), busybox(t, "1002")
	oldDigest := reg.push(t, "busybox:stable", old)
	d := startDaemon(t, plainHTTP(reg))
	ref := reg.Host + "/busybox:stable"

	d.MustCrictl(t, "pull", ref)
	d.MustCrictl(t, "pull", ref) // the same manifest again: nothing to download
	if n := layerGETs(t, reg, configDigest(t, old)); n != 1 {
		t.Fatalf("the config was fetched %d times for two pulls of one manifest, want 1", n)
	}
	reg.push(t, "busybox:stable", newer)
	d.MustCrictl(t, "pull", ref)

	if st := imageStatus(t, d, ref); st.Id != configDigest(t, newer) {
		t.Fatalf("%s is %s, want the newer %s", ref, st.Id, configDigest(t, newer))
	}
	st := imageStatus(t, d, configDigest(t, old))
	if len(st.RepoTags) != 0 || !slices.Equal(st.RepoDigests, []string{reg.Host + "/busybox@" + oldDigest}) {
		t.Fatalf("the old image has tags %v digests %v; want no tag and its repo digest", st.RepoTags, st.RepoDigests)
	}
	// Pulling the old one by digest, then by a new tag, adds the tag without a download.
	d.MustCrictl(t, "pull", reg.Host+"/busybox@"+oldDigest)
	reg.push(t, "busybox:old", old)
	d.MustCrictl(t, "pull", reg.Host+"/busybox:old")
	if st := imageStatus(t, d, reg.Host+"/busybox:old"); st.Id != configDigest(t, old) {
		t.Fatalf("busybox:old is %s", st.Id)
	}
	if n := layerGETs(t, reg, configDigest(t, old)); n != 1 {
		t.Fatalf("the old config was fetched %d times, want 1", n)
	}
}
