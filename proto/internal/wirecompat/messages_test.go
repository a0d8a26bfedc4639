package wirecompat

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protoRoot is the proto/ directory, relative to this package.
const protoRoot = "../.."

func TestEveryProtoFileIsChecked(t *testing.T) {
	var onDisk []string
	err := filepath.WalkDir(protoRoot, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".proto") {
			rel, _ := filepath.Rel(protoRoot, path)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	for _, fd := range ourFiles {
		checked = append(checked, fd.Path())
	}
	slices.Sort(onDisk)
	slices.Sort(checked)
	if !slices.Equal(onDisk, checked) {
		t.Errorf("ourFiles must list every .proto under proto/:\n on disk: %v\n checked: %v", onDisk, checked)
	}
}

func TestEveryMessageHasAContainerdCounterpart(t *testing.T) {
	inTable := map[protoreflect.FullName]bool{}
	for _, c := range counterparts {
		inTable[c.ours.ProtoReflect().Descriptor().FullName()] = true
	}
	inFiles := map[protoreflect.FullName]bool{}
	for _, file := range ourFiles {
		forEachMessage(file.Messages(), func(md protoreflect.MessageDescriptor) {
			inFiles[md.FullName()] = true
			if !inTable[md.FullName()] {
				t.Errorf("%s (%s) has no entry in counterparts", md.FullName(), file.Path())
			}
		})
	}
	for name := range inTable {
		if !inFiles[name] {
			t.Errorf("counterparts names %s, which no file in ourFiles declares", name)
		}
	}
}

func TestEveryEnumMatchesContainerd(t *testing.T) {
	for _, file := range ourFiles {
		for i := 0; i < file.Enums().Len(); i++ {
			ours := file.Enums().Get(i)
			theirs, ok := enumCounterparts[ours.FullName()]
			if !ok {
				t.Errorf("enum %s (%s) has no entry in enumCounterparts", ours.FullName(), file.Path())
				continue
			}
			compareEnums(t, ours, theirs)
		}
	}
}

func TestMessagesHaveContainerdNamesAndFieldShapes(t *testing.T) {
	for _, c := range counterparts {
		for _, theirs := range c.theirs {
			compareMessages(t, c.ours.ProtoReflect().Descriptor(), theirs.ProtoReflect().Descriptor())
		}
	}
}

// TestMessagesRoundTripThroughContainerdTypes fills every field of each of our
// messages and of containerd's counterpart with the same content, then checks
// both encode to the same bytes and each decodes the other's bytes losslessly.
func TestMessagesRoundTripThroughContainerdTypes(t *testing.T) {
	for _, c := range counterparts {
		for _, theirs := range c.theirs {
			name := string(c.ours.ProtoReflect().Descriptor().FullName()) + "~" +
				string(theirs.ProtoReflect().Descriptor().FullName())
			t.Run(name, func(t *testing.T) { assertWireIdentical(t, c.ours, theirs) })
		}
	}
}

func assertWireIdentical(t *testing.T, oursType, theirsType proto.Message) {
	ours, theirs := filled(newOf(oursType)), filled(newOf(theirsType))
	assertFullyPopulated(t, ours.ProtoReflect())
	assertFullyPopulated(t, theirs.ProtoReflect())
	oursBytes, theirsBytes := marshal(t, ours), marshal(t, theirs)
	if !bytes.Equal(oursBytes, theirsBytes) {
		t.Fatalf("same content, different bytes:\n ours:   %x\n theirs: %x", oursBytes, theirsBytes)
	}
	assertDecodesLosslessly(t, oursBytes, newOf(theirsType), theirs)
	assertDecodesLosslessly(t, theirsBytes, newOf(oursType), ours)
}

// assertDecodesLosslessly decodes wire into into, which must then equal want,
// hold every field, and encode back to the same bytes.
func assertDecodesLosslessly(t *testing.T, wire []byte, into, want proto.Message) {
	t.Helper()
	if err := proto.Unmarshal(wire, into); err != nil {
		t.Fatalf("decode into %T: %v", into, err)
	}
	if !proto.Equal(into, want) {
		t.Errorf("decoded %T differs:\n got:  %s\n want: %s", into, prototext.Format(into), prototext.Format(want))
	}
	assertFullyPopulated(t, into.ProtoReflect())
	if again := marshal(t, into); !bytes.Equal(again, wire) {
		t.Errorf("%T re-encodes differently:\n in:  %x\n out: %x", into, wire, again)
	}
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	return b
}

func newOf(m proto.Message) proto.Message { return m.ProtoReflect().New().Interface() }

// forEachMessage visits messages and their nested messages, skipping the
// synthetic entries of map fields.
func forEachMessage(mds protoreflect.MessageDescriptors, visit func(protoreflect.MessageDescriptor)) {
	for i := 0; i < mds.Len(); i++ {
		md := mds.Get(i)
		if md.IsMapEntry() {
			continue
		}
		visit(md)
		forEachMessage(md.Messages(), visit)
	}
}
