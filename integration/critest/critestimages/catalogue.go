package critestimages

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is one image critest pulls, with every upstream reference that
// names it (critest expects some names to be the same image).
type Image struct {
	Refs  []string
	Needs string // what the specs need of it
	build func(*Builder) (v1.Image, error)
}

const (
	e2e     = "registry.k8s.io/e2e-test-images/"
	staging = "gcr.io/k8s-staging-cri-tools/"
)

// Catalogue lists the images of critest v1.37.0 on linux/amd64.
func Catalogue() []Image {
	imgs := []Image{
		{Refs: []string{e2e + "busybox:1.29-2"},
			Needs: "the default test image: busybox applets (sh, top, echo, id, ping, brctl, hostname, netstat, mount, dd, ...), pgrep and ipcs; a shell that runs ls from /bin/ls (MaskedPaths), users root, www-data and nobody",
			build: (*Builder).defaultBusybox},
		{Refs: []string{e2e + "nginx:1.14-2"},
			Needs: "a web server on port 80 answering 200 on /; titled \"nginx: master process\", named nginx for pidof, pid in /var/run/nginx.pid; busybox sh, cat, grep, sleep",
			build: func(b *Builder) (v1.Image, error) { return b.nginx("80") }},
		{Refs: []string{staging + "hostnet-nginx-amd64:latest"},
			Needs: "the nginx image listening on port 12003 (host network port-forward spec)",
			build: func(b *Builder) (v1.Image, error) { return b.nginx("12003") }},
		{Refs: []string{e2e + "httpd:2.4.39-4"},
			Needs: "a web server on port 80 that logs the word \"httpd\"; busybox echo",
			build: (*Builder).httpd},
		{Refs: []string{e2e + "nonewprivs:1.3"},
			Needs: "an entrypoint, setuid root, printing \"Effective uid: N\"",
			build: (*Builder).nonewprivs},
		{Refs: []string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"},
			Needs: "one image under both names (same ID), runnable with its own entrypoint",
			build: (*Builder).pause},
		{Refs: []string{staging + "test-image-predefined-group:latest"},
			Needs: "USER 1000, default-user (uid 1000, gid 1000) also in group-defined-in-image (gid 50000); /etc/passwd for the image-volume subPath spec",
			build: (*Builder).predefinedGroup},
		{Refs: []string{staging + "test-image-tags:1", staging + "test-image-tags:2", staging + "test-image-tags:3"},
			Needs: "three tags of one image",
			build: func(b *Builder) (v1.Image, error) { return b.marked("same-image") }},
	}
	for _, u := range []struct{ name, user string }{
		{"test-image-user-uid", "1002"},
		{"test-image-user-username", "www-data"},
		{"test-image-user-uid-group", "1003:1004"},
		{"test-image-user-username-group", "www-data:1004"},
	} {
		user := u.user
		imgs = append(imgs, Image{Refs: []string{staging + u.name + ":latest"},
			Needs: "USER " + user + " (ImageStatus uid/username)",
			build: func(b *Builder) (v1.Image, error) { return b.withUser(user) }})
	}
	for _, m := range []struct{ ref, mark string }{
		{"test-image-latest:latest", "test-image-latest"},
		{"test-image-tag:test", "test"},
		{"test-image-tag:all", "all"},
		{"test-image-1:latest", "test-image-1"},
		{"test-image-2:latest", "test-image-2"},
		{"test-image-3:latest", "test-image-3"},
		// Pushed for completeness: critest pins its digest
		// (sha256:9700f9a2...), which no offline build reproduces.
		{"test-image-digest:latest", "test-image-digest"},
	} {
		mark := m.mark
		imgs = append(imgs, Image{Refs: []string{staging + m.ref},
			Needs: "busybox (sh, ls, top) plus a file /" + mark + " that tells it from the other test images",
			build: func(b *Builder) (v1.Image, error) { return b.marked(mark) }})
	}
	return imgs
}
