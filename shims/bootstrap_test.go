package shims

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	bootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
	"github.com/runlet/runlet/proto/runc/options"
)

func optionsAny(t *testing.T, o *options.Options) *anypb.Any {
	t.Helper()
	b, err := proto.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return &anypb.Any{TypeUrl: "containerd.runc.v1.Options", Value: b}
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testFlags = &flags{id: "task1", namespace: "k8s.io"}

func TestDecodeInputReadsLegacyOptionsAny(t *testing.T) {
	raw := marshal(t, optionsAny(t, &options.Options{BinaryName: "crun", Root: "/run/x"}))
	in, err := decodeInput(raw, testFlags)
	if err != nil {
		t.Fatal(err)
	}
	if in.gen != genRawAddress || in.params != nil {
		t.Fatalf("generation %d params %v: options were taken for BootstrapParams", in.gen, in.params)
	}
	if in.options.GetBinaryName() != "crun" || in.options.GetRoot() != "/run/x" {
		t.Fatalf("options = %v", in.options)
	}
	if !bytes.Equal(in.rawOptions, raw) {
		t.Fatal("raw options not kept for the server")
	}
}

func TestDecodeInputTakesParamsOnlyWhenIDAndNamespaceMatch(t *testing.T) {
	params := &bootstrap.BootstrapParams{
		InstanceId: "task1", Namespace: "k8s.io", ContainerdTtrpcAddress: "/run/d.sock.ttrpc",
		Extensions: []*bootstrap.Extension{{Value: optionsAny(t, &options.Options{SystemdCgroup: true})}},
	}
	in, err := decodeInput(marshal(t, params), testFlags)
	if err != nil {
		t.Fatal(err)
	}
	if in.gen != genProto || in.ttrpcAddress != "/run/d.sock.ttrpc" || !in.options.GetSystemdCgroup() {
		t.Fatalf("gen %d address %q options %v", in.gen, in.ttrpcAddress, in.options)
	}
	params.InstanceId = "other"
	in, err = decodeInput(marshal(t, params), testFlags)
	if err == nil && in.gen == genProto {
		t.Fatal("params for another task were accepted")
	}
}

func TestDecodeInputAcceptsEmptyStdin(t *testing.T) {
	in, err := decodeInput(nil, testFlags)
	if err != nil || in.options != nil {
		t.Fatalf("empty stdin: %v, %v", in.options, err)
	}
}

func TestReplyMatchesEachGeneration(t *testing.T) {
	const addr = "unix:///run/runlet/s/abc"
	var out bytes.Buffer
	if err := (&startInput{gen: genRawAddress}).reply(&out, addr); err != nil || out.String() != addr {
		t.Fatalf("raw reply %q, %v", out.String(), err)
	}
	for _, tc := range []struct{ max, want int }{{2, 2}, {3, 3}, {9, 3}} {
		out.Reset()
		if err := (&startInput{gen: genJSON, maxVersion: tc.max}).reply(&out, addr); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Version  int    `json:"version"`
			Address  string `json:"address"`
			Protocol string `json:"protocol"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Version != tc.want || got.Address != addr || got.Protocol != "ttrpc" {
			t.Fatalf("MAX_SHIM_VERSION=%d: reply %+v", tc.max, got)
		}
	}
	out.Reset()
	if err := (&startInput{gen: genProto}).reply(&out, addr); err != nil {
		t.Fatal(err)
	}
	var res bootstrap.BootstrapResult
	if err := proto.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.GetVersion() != 3 || res.GetAddress() != addr || res.GetProtocol() != "ttrpc" {
		t.Fatalf("bootstrap result %v", &res)
	}
}

func TestReadInputRefusesOversizedStdin(t *testing.T) {
	if _, err := readInput(strings.NewReader(strings.Repeat("x", maxStdin+1))); err == nil {
		t.Fatal("oversized stdin accepted")
	}
}
