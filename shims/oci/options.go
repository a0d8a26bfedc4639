package oci

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/runlet/runlet/proto/runc/options"
)

var runcOptionsName = string((&options.Options{}).ProtoReflect().Descriptor().FullName())

// IsRuncOptions reports whether a holds containerd.runc.v1.Options, under
// containerd's bare type URL or the type.googleapis.com/ form.
func IsRuncOptions(a *anypb.Any) bool {
	u := a.GetTypeUrl()
	return u == runcOptionsName || u == "type.googleapis.com/"+runcOptionsName
}

// DecodeOptions decodes containerd.runc.v1.Options from a; options of any
// other type give nil, nil (a runtime that takes no options ignores them).
func DecodeOptions(a *anypb.Any) (*options.Options, error) {
	if !IsRuncOptions(a) {
		return nil, nil
	}
	var opts options.Options
	if err := proto.Unmarshal(a.GetValue(), &opts); err != nil {
		return nil, fmt.Errorf("decode %s: %w", a.GetTypeUrl(), err)
	}
	return &opts, nil
}
