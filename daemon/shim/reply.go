package shim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
)

// Reply is a shim's answer to `start`.
type Reply struct {
	// Version is the task API: 2 (containerd.task.v2.Task) or 3.
	Version  int
	Address  string
	Protocol string
}

// ParseReply reads a `start` reply in any generation: protobuf
// BootstrapResult, then JSON {"version","address","protocol"}, then a raw
// address (task API 2).
func ParseReply(out []byte) (Reply, error) {
	if r, ok := parseProtoReply(out); ok {
		return r, nil
	}
	text := strings.TrimSpace(string(out))
	var j struct {
		Version  int    `json:"version"`
		Address  string `json:"address"`
		Protocol string `json:"protocol"`
	}
	if strings.HasPrefix(text, "{") && json.Unmarshal([]byte(text), &j) == nil {
		return checkReply(Reply{Version: j.Version, Address: j.Address, Protocol: j.Protocol})
	}
	return checkReply(Reply{Version: 2, Address: text, Protocol: "ttrpc"})
}

// parseProtoReply accepts out as a BootstrapResult only when it decodes to
// a plausible address: raw and JSON replies are text and rarely do.
func parseProtoReply(out []byte) (Reply, bool) {
	var res bootstrap.BootstrapResult
	if len(out) == 0 || out[0] == '{' || strings.HasPrefix(string(out), "unix://") {
		return Reply{}, false
	}
	if proto.Unmarshal(out, &res) != nil || res.GetAddress() == "" {
		return Reply{}, false
	}
	r, err := checkReply(Reply{Version: int(res.GetVersion()), Address: res.GetAddress(), Protocol: res.GetProtocol()})
	return r, err == nil
}

func checkReply(r Reply) (Reply, error) {
	if r.Protocol == "" {
		r.Protocol = "ttrpc"
	}
	switch {
	case r.Protocol != "ttrpc":
		return r, fmt.Errorf("shim serves %q; only ttrpc is supported: %w", r.Protocol, errdefs.ErrNotImplemented)
	case r.Version != 2 && r.Version != 3:
		return r, fmt.Errorf("shim serves task API version %d: %w", r.Version, errdefs.ErrNotImplemented)
	case !strings.HasPrefix(r.Address, "unix://") || strings.HasPrefix(r.Address, "unix://@"):
		return r, fmt.Errorf("shim address %q is not a filesystem unix socket: %w", r.Address, errdefs.ErrInvalidArgument)
	}
	return r, nil
}
