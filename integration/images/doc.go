// Package images holds runletd's end-to-end image tests: a real runletd, a
// real OCI registry (distribution) on a free loopback port, images built from
// busybox-static and the built-in pause, driven with the real crictl and a Go
// CRI client. Nothing leaves the loopback interface.
//
// Tools come from $RUNLET_TOOLS (default <repo>/.tools); install them with
//
//	GOBIN=$PWD/.tools go install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0
//	GOBIN=$PWD/.tools go install github.com/distribution/distribution/v3/cmd/registry@v3.1.2
package images
