package critestimages

import (
	"archive/tar"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlet/runlet/integration/images/testimages"
)

// Sources are the files on this machine the images are made of.
type Sources struct {
	StaticBusybox  string // busybox-static's /bin/busybox
	DynamicBusybox string // bin/busybox of Debian's busybox package, extracted with dpkg-deb -x
	Fixture        string // fixture/ built statically (BuildFixture)
	Pause          string // a static pause program
}

// Builder makes the images from Sources, sharing the base layer.
type Builder struct {
	src     Sources
	fixture []byte
	static  v1.Layer // busybox-static root filesystem
}

// NewBuilder reads the sources and prepares the shared layers.
func NewBuilder(src Sources) (*Builder, error) {
	b := &Builder{src: src}
	var err error
	if b.fixture, err = os.ReadFile(src.Fixture); err != nil {
		return nil, err
	}
	files, err := busyboxRoot(src.StaticBusybox, nil)
	if err != nil {
		return nil, err
	}
	if b.static, err = testimages.Layer(files); err != nil {
		return nil, err
	}
	return b, nil
}

// Built is one image made for its references.
type Built struct {
	Refs  []string
	Image v1.Image
}

// BuildAll builds every image of the catalogue.
func (b *Builder) BuildAll() ([]Built, error) {
	var out []Built
	for _, c := range Catalogue() {
		img, err := c.build(b)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", c.Refs[0], err)
		}
		out = append(out, Built{Refs: c.Refs, Image: img})
	}
	return out, nil
}

// passwd and group are the official busybox image's accounts.
const (
	passwd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
	group = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
`
)

// busyboxRoot is a root filesystem laid out as the official busybox
// image's: the binary at /bin/busybox, a hardlink per applet, accounts,
// /tmp, /root, /var/run; extra files follow.
func busyboxRoot(busybox string, extra []testimages.File) ([]testimages.File, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("%w (apt-get install busybox-static, or make deps)", err)
	}
	applets, err := appletsOf(busybox)
	if err != nil {
		return nil, err
	}
	files := []testimages.File{
		dir("bin/"), {Name: "bin/busybox", Mode: 0o755, Data: bin},
		dir("etc/"),
		{Name: "etc/passwd", Mode: 0o644, Data: []byte(passwd)},
		{Name: "etc/group", Mode: 0o644, Data: []byte(group)},
		dir("home/"), {Name: "root/", Mode: 0o700, Type: tar.TypeDir},
		{Name: "tmp/", Mode: 0o1777, Type: tar.TypeDir},
		dir("usr/"), dir("usr/local/"), dir("usr/local/bin/"), dir("usr/sbin/"),
		dir("var/"), dir("var/run/"), dir("var/www/"),
	}
	for _, a := range applets {
		if a != "busybox" {
			files = append(files, testimages.File{Name: "bin/" + a, Mode: 0o755, Type: tar.TypeLink, Link: "bin/busybox"})
		}
	}
	return sortDirsFirst(append(files, extra...)), nil
}

// appletsOf lists a busybox binary's applets, sorted.
func appletsOf(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	names := strings.Fields(string(out))
	sort.Strings(names)
	return names, nil
}

func dir(name string) testimages.File {
	return testimages.File{Name: name, Mode: 0o755, Type: tar.TypeDir}
}

// fixtureFiles installs the fixture at path, hardlinked under each of the
// other names (paths in the image, without the leading slash).
func (b *Builder) fixtureFiles(path string, mode int64, links ...string) []testimages.File {
	files := []testimages.File{{Name: path, Mode: mode, Data: b.fixture}}
	for _, l := range links {
		files = append(files, testimages.File{Name: l, Mode: mode, Type: tar.TypeLink, Link: path})
	}
	return files
}

// onStatic is an image of the busybox-static base plus one layer of files.
func (b *Builder) onStatic(cfg v1.ConfigFile, files []testimages.File) (v1.Image, error) {
	top, err := testimages.Layer(files)
	if err != nil {
		return nil, err
	}
	return testimages.Image(cfg, b.static, top)
}

// config is linux/amd64 running cmd, as user, with PATH set.
func config(user string, cmd ...string) v1.ConfigFile {
	return testimages.Config("amd64", user, cmd...)
}
