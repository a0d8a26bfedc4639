// Command runletd is runlet's CRI daemon.
//
//	runletd [--config FILE]                  serve CRI on the configured socket
//	runletd [--config FILE] images import F  load image tarballs into the store
//	runletd config default                   print a commented default config
//	runletd --version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	goruntime "runtime"
	"syscall"

	"github.com/runlet/runlet/daemon/internal/config"
	"github.com/runlet/runlet/daemon/internal/cri"
	"github.com/runlet/runlet/daemon/internal/runletd"
	"github.com/runlet/runlet/runtimeclass"
)

// commit is the commit runletd was built from, set at link time:
// -ldflags "-X main.commit=3d84577"; empty in a plain go build.
var commit string

// version is what runletd reports (--version, the CRI runtime_version):
// semver with the commit as build metadata, e.g. 0.1.0+3d84577.
var version = cri.RuntimeVersion(commit)

const defaultConfigPath = "/etc/runlet/config.toml"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "runletd:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("runletd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", defaultConfigPath, "configuration file (TOML)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintf(stdout, "runletd %s (%s %s/%s)\n", version, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
		return nil
	}
	rest := fs.Args()
	switch {
	case len(rest) == 0:
		return serve(*configPath)
	case rest[0] == "config" && len(rest) == 2 && rest[1] == "default":
		_, err := io.WriteString(stdout, config.DefaultText)
		return err
	case rest[0] == "images" && len(rest) >= 3 && rest[1] == "import":
		return importImages(*configPath, rest[2:], stdout)
	default:
		usage(fs)
		return fmt.Errorf("unknown command %q", rest)
	}
}

func usage(fs *flag.FlagSet) {
	fmt.Fprint(fs.Output(), `usage:
  runletd [--config FILE]                        serve CRI on the configured socket
  runletd [--config FILE] images import FILE...  load OCI layout or docker-archive tarballs
  runletd config default                         print a commented default configuration
  runletd --version
flags:
`)
	fs.PrintDefaults()
}

func loadConfig(path string) (config.Config, *slog.Logger, error) {
	cfg, err := load(path)
	if err != nil {
		return config.Config{}, nil, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return config.Config{}, nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	return cfg, log, nil
}

func serve(configPath string) error {
	cfg, log, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d, err := runletd.Open(cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	d.Version = version
	if err := d.Start(ctx); err != nil {
		return inConfig(configPath, err)
	}
	return d.Serve(ctx, version)
}

func importImages(configPath string, files []string, stdout io.Writer) error {
	cfg, log, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	d, err := runletd.Open(cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, f := range files {
		imgs, err := d.Images.ImportFile(context.Background(), f)
		if err != nil {
			return err
		}
		for _, img := range imgs {
			fmt.Fprintf(stdout, "imported %s %v\n", img.ID, img.RepoTags)
		}
	}
	return nil
}

// inConfig names the config file in an error about a runtime setting.
func inConfig(path string, err error) error {
	var ce *runtimeclass.ConfigError
	if errors.As(err, &ce) {
		return &config.Error{File: path, Key: ce.Key, Reason: ce.Err.Error()}
	}
	return err
}

// load reads the config file; with no file at the default path runletd
// runs on its built-in defaults (those `runletd config default` prints).
func load(path string) (config.Config, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && path == defaultConfigPath {
		return config.Parse("built-in defaults", []byte(config.DefaultText))
	}
	return config.Load(path)
}
