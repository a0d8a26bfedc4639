package critestimages

import (
	"archive/tar"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

// marked is busybox with an empty file /mark, as cri-tools'
// images/image-test Dockerfile makes (ADD $TEST $TEST).
func (b *Builder) marked(mark string) (v1.Image, error) {
	return b.onStatic(config("", "sh"), []testimages.File{{Name: mark, Mode: 0o644}})
}

// withUser is busybox whose config runs as user.
func (b *Builder) withUser(user string) (v1.Image, error) {
	return b.onStatic(config(user, "sh"), nil)
}

// predefinedGroup is cri-tools' image-predefined-group: default-user
// (uid 1000, primary group 1000) is also in group-defined-in-image (50000).
func (b *Builder) predefinedGroup() (v1.Image, error) {
	files := []testimages.File{
		{Name: "etc/passwd", Mode: 0o644, Data: []byte(passwd + "default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n")},
		{Name: "etc/group", Mode: 0o644, Data: []byte(group + "default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n")},
		{Name: "home/default-user/", Mode: 0o755, Type: tar.TypeDir, Uid: 1000, Gid: 1000},
	}
	return b.onStatic(config("1000", "sh"), files)
}

// nginx serves on port like nginx (see fixture/), with busybox beside it.
func (b *Builder) nginx(port string) (v1.Image, error) {
	cfg := config("", "-g", "daemon off;")
	cfg.Config.Entrypoint = []string{"/usr/sbin/nginx"}
	cfg.Config.Env = append(cfg.Config.Env, "FIXTURE_PORT="+port)
	cfg.Config.ExposedPorts = map[string]struct{}{port + "/tcp": {}}
	return b.onStatic(cfg, b.fixtureFiles("usr/sbin/nginx", 0o755))
}

// httpd serves on port 80 and logs "httpd", as httpd-foreground does.
func (b *Builder) httpd() (v1.Image, error) {
	cfg := config("", "httpd-foreground")
	cfg.Config.Env = append(cfg.Config.Env, "FIXTURE_PORT=80")
	cfg.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	return b.onStatic(cfg, b.fixtureFiles("usr/local/bin/httpd-foreground", 0o755))
}

// nonewprivs runs a setuid-root program that prints its effective uid.
func (b *Builder) nonewprivs() (v1.Image, error) {
	cfg := config("")
	cfg.Config.Entrypoint = []string{"/usr/local/bin/nnp"}
	return b.onStatic(cfg, b.fixtureFiles("usr/local/bin/nnp", 0o4755))
}

// pause is the static pause program as /pause.
func (b *Builder) pause() (v1.Image, error) {
	bin, err := os.ReadFile(b.src.Pause)
	if err != nil {
		return nil, err
	}
	return testimages.PauseImage(bin)
}
