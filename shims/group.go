package shims

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Annotations that put containers in one shim process: the CRI's sandbox
// id (every container of a pod) and containerd's explicit runc group.
var groupAnnotations = []string{
	"io.kubernetes.cri.sandbox-id",
	"io.containerd.runc.v2.group",
}

// groupID is the id of the shim group the bundle's container joins: the
// first grouping annotation of its config.json, else the task id itself.
func groupID(bundle, id string) (string, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if os.IsNotExist(err) {
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("read bundle config: %w", err)
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return "", fmt.Errorf("parse %s/config.json: %w", bundle, err)
	}
	for _, key := range groupAnnotations {
		if g := spec.Annotations[key]; g != "" {
			return g, nil
		}
	}
	return id, nil
}
