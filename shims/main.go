package shims

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs the shim binary described by cfg with os.Args and exits.
func Main(cfg Config) {
	f, err := parseFlags(cfg.Name, os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = run(ctx, cfg, f)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cfg.Name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func run(ctx context.Context, cfg Config, f *flags) error {
	switch {
	case f.version:
		fmt.Printf("%s:\n  Version: %s\n  Runtime: %s\n", cfg.Name, Version, cfg.RuntimeBinary)
		return nil
	case f.info:
		return printInfo(ctx, cfg, os.Stdin, os.Stdout)
	}
	switch f.action {
	case "start":
		if err := f.needID(); err != nil {
			return err
		}
		return start(ctx, cfg, f, os.Stdin, os.Stdout)
	case "delete":
		if err := f.needID(); err != nil {
			return err
		}
		return deleteTask(ctx, cfg, f, os.Stdout)
	case "":
		if err := f.needID(); err != nil {
			return err
		}
		return serve(ctx, cfg, f)
	default:
		return fmt.Errorf("unknown action %q (want start, delete, -info or -v)", f.action)
	}
}
