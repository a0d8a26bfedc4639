// Command mkimage builds a busybox image from this machine's busybox-static
// as an image tarball, for
// `runletd images import` or an import directory: no registry needed.
//
//	go run ./integration/images/cmd/mkimage -o busybox.tar
//	go run ./integration/images/cmd/mkimage -format docker -ref localhost/busybox:1 -o bb.tar
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
	flag.Parse()
	if err := run(*out, *ref, *format, *user); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(out, ref, format, user string) error {
	img, err := testimages.BusyboxImage(user)
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
