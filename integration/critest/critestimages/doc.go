// Package critestimages builds, with no network, every image that critest
// (cri-tools v1.37.0) pulls on linux/amd64, and pushes them under their
// upstream repository names to a registry on this machine, so a runtime
// whose mirrors send registry.k8s.io, k8s.gcr.io and gcr.io there runs the
// whole suite offline.
//
// Each image has exactly the properties the specs check (read from
// pkg/validate of cri-tools): the default busybox test image is Debian's
// dynamically linked busybox, whose shell runs ls as a separate program (the
// MaskedPaths spec masks /bin/ls); the others are built from this machine's
// busybox-static; the few programs busybox lacks (web servers, the setuid
// nonewprivs probe, pgrep, ipcs) are one small static Go program, fixture/,
// installed under each name. Files and configs carry a fixed time, so the
// same inputs give the same digests.
package critestimages
