package runtimeclass

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/proto/runc/options"
)

// encodeOptions turns an options table into an Any of
// containerd.runc.v1.Options with containerd's bare type URL. Unknown keys
// and ill-typed values are errors naming the key.
func encodeOptions(table map[string]any) (*anypb.Any, error) {
	if len(table) == 0 {
		return nil, nil
	}
	normal := make(map[string]any, len(table))
	for k, v := range table {
		normal[snakeCase(k)] = v
	}
	raw, err := json.Marshal(normal)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	var opts options.Options
	if err := protojson.Unmarshal(raw, &opts); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	b, err := proto.Marshal(&opts)
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: string(proto.MessageName(&opts)), Value: b}, nil
}

// snakeCase maps containerd's TOML keys (BinaryName, SystemdCgroup) to the
// proto field names (binary_name, systemd_cgroup); snake_case passes as is.
func snakeCase(k string) string {
	var b strings.Builder
	for i, r := range k {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
