package oci

import (
	"context"
	"encoding/json"
	"fmt"

	runc "github.com/containerd/go-runc"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/proto/types"
)

// featuresTypeURL is the type URL containerd registers for runtime-spec's
// features.Features, which travels as JSON.
const featuresTypeURL = "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

// StdioSchemesAnnotation lists, in RuntimeInfo, the stdio URI schemes
// the shim takes besides FIFO paths; a daemon that finds "crilog" there
// lets the shim write the CRI log itself.
const (
	StdioSchemesAnnotation = "io.runlet.shim/stdio-schemes"
	StdioSchemes           = "crilog,file,binary"
)

// Info describes the shim and its runtime for `shim -info`: name and
// version, the resolved options, and the runtime's OCI features: what it
// reports (`runc features`), else fallback (older runtimes cannot report;
// nil for none).
func Info(ctx context.Context, name, version, defaultBinary string, rawOpts *anypb.Any, fallback *features.Features) (*types.RuntimeInfo, error) {
	opts, err := DecodeOptions(rawOpts)
	if err != nil {
		return nil, err
	}
	info := &types.RuntimeInfo{
		Name:        name,
		Version:     &types.RuntimeVersion{Version: version},
		Annotations: map[string]string{StdioSchemesAnnotation: StdioSchemes},
	}
	if opts != nil {
		info.Options = rawOpts
	}
	binary, _ := runtimeSettings(defaultBinary, "", opts)
	r := &runc.Runc{Command: binary}
	if v, err := r.Version(ctx); err == nil {
		info.Annotations["runtime.binary"] = binary
		info.Annotations["runtime.version"] = v.Runc
		info.Annotations["runtime.spec"] = v.Spec
	}
	feat, err := r.Features(ctx)
	if err != nil && fallback != nil {
		feat, err = fallback, nil
	}
	if err == nil {
		b, err := json.Marshal(feat)
		if err != nil {
			return nil, fmt.Errorf("encode runtime features: %w", err)
		}
		info.Features = &anypb.Any{TypeUrl: featuresTypeURL, Value: b}
	}
	return info, nil
}
