package oci

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"

	"github.com/runlet/runlet/proto/runc/options"
)

// runtimeFile records, in the bundle, which runtime and state root a task
// used, so the `delete` action can clean up after a shim that is gone.
const runtimeFile = "runlet-runtime.json"

type runtimeRecord struct {
	Binary        string `json:"binary"`
	Root          string `json:"root"`
	SystemdCgroup bool   `json:"systemd_cgroup,omitempty"`
}

func newRuntime(bundle string, rec runtimeRecord) *runc.Runc {
	return &runc.Runc{
		Command:       rec.Binary,
		Root:          rec.Root,
		Log:           filepath.Join(bundle, "log.json"),
		LogFormat:     runc.JSON,
		SystemdCgroup: rec.SystemdCgroup,
	}
}

func recordFor(defaultBinary, namespace string, opts *options.Options) runtimeRecord {
	binary, root := runtimeSettings(defaultBinary, namespace, opts)
	return runtimeRecord{Binary: binary, Root: root, SystemdCgroup: opts.GetSystemdCgroup()}
}

func writeRuntimeRecord(bundle string, rec runtimeRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, runtimeFile), b, 0o600); err != nil {
		return fmt.Errorf("record runtime: %w", err)
	}
	return nil
}

func removeRuntimeRecord(bundle string) { _ = os.Remove(filepath.Join(bundle, runtimeFile)) }

func readRuntimeRecord(bundle string) (runtimeRecord, error) {
	var rec runtimeRecord
	b, err := os.ReadFile(filepath.Join(bundle, runtimeFile))
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(b, &rec)
}

// runtimeError turns a failed runtime call into an error that carries the
// runtime's own last error message from its JSON log.
func runtimeError(bundle string, op string, err error) error {
	if err == nil {
		return nil
	}
	msg := lastLoggedError(filepath.Join(bundle, "log.json"))
	if msg == "" {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %s: %w", op, msg, err)
}

func lastLoggedError(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var line struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Level == "error" {
			last = line.Msg
		}
	}
	return last
}

// isNotRunning reports runtime errors that mean the process is gone.
func isNotRunning(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	for _, m := range []string{"not running", "does not exist", "no such process", "process already finished", "container not found"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// finished is the error Kill gives for a process that has exited.
var finished = fmt.Errorf("process already finished: %w", errdefs.ErrNotFound)
