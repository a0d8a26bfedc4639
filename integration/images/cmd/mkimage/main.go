// Command mkimage builds a busybox image from this machine's busybox-static
// (or a pause image from a static pause program) as an image tarball, for
// `runletd images import`, an import directory or `crane push`: no
// registry needed.
//
//	go run ./integration/images/cmd/mkimage -o busybox.tar
//	go run ./integration/images/cmd/mkimage -format docker -ref localhost/busybox:1 -o bb.tar
//	go run ./integration/images/cmd/mkimage -pause daemon/internal/pause/pause -ref registry.k8s.io/pause:3.9 -format docker -o pause.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/runlet/runlet/integration/images/testimages"
)

func main() {
	out := flag.String("o", "busybox.tar", "output file")
	ref := flag.String("ref", "docker.io/library/busybox:latest", "name of the image in the archive")
	format := flag.String("format", "oci", "oci (OCI image layout tar) or docker (docker save tar)")
	user := flag.String("user", "", "image config User")
	pause := flag.String("pause", "", "build a pause image from this static program instead of busybox")
	flag.Parse()
	if err := run(*out, *ref, *format, *user, *pause); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(out, ref, format, user, pause string) error {
	img, err := testimages.BusyboxImage(user)
	if pause != "" {
		var bin []byte
		if bin, err = os.ReadFile(pause); err == nil {
			img, err = testimages.PauseImage(bin)
		}
	}
	if err != nil {
		return err
	}
	switch format {
	case "oci":
		return testimages.WriteOCIArchive(out, ref, img)
	case "docker":
		return testimages.WriteDockerArchive(out, ref, img)
	default:
		return fmt.Errorf("format %q: want oci or docker", format)
	}
}
