package wirecompat

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// sameName maps containerd's task v3 names onto v2: our v3 service reuses
// the v2 messages, which only ever travel unnamed (ttrpc payloads).
func sameName(name protoreflect.FullName) protoreflect.FullName {
	return protoreflect.FullName(strings.Replace(string(name), "containerd.task.v3.", "containerd.task.v2.", 1))
}

// compareMessages fails unless ours and theirs have the same full name and
// the same fields: number, name, kind, cardinality, presence, packing, and
// the same referenced message and enum types.
func compareMessages(t *testing.T, ours, theirs protoreflect.MessageDescriptor) {
	t.Helper()
	if sameName(ours.FullName()) != sameName(theirs.FullName()) {
		t.Errorf("message name: ours %s, containerd %s", ours.FullName(), theirs.FullName())
	}
	of, tf := ours.Fields(), theirs.Fields()
	if of.Len() != tf.Len() {
		t.Errorf("%s: %d fields, containerd's %s has %d", ours.FullName(), of.Len(), theirs.FullName(), tf.Len())
	}
	for i := 0; i < of.Len(); i++ {
		o := of.Get(i)
		c := tf.ByNumber(o.Number())
		if c == nil {
			t.Errorf("%s: containerd's %s has no field %d", o.FullName(), theirs.FullName(), o.Number())
			continue
		}
		compareFields(t, o, c)
	}
}

func compareFields(t *testing.T, o, c protoreflect.FieldDescriptor) {
	t.Helper()
	type shape struct {
		Name        protoreflect.Name
		Kind        protoreflect.Kind
		Cardinality protoreflect.Cardinality
		IsMap       bool
		HasPresence bool
		IsPacked    bool
	}
	shapeOf := func(f protoreflect.FieldDescriptor) shape {
		return shape{f.Name(), f.Kind(), f.Cardinality(), f.IsMap(), f.HasPresence(), f.IsPacked()}
	}
	if shapeOf(o) != shapeOf(c) {
		t.Errorf("%s: ours %+v, containerd %+v", o.FullName(), shapeOf(o), shapeOf(c))
	}
	switch {
	case o.IsMap():
		compareMessages(t, o.Message(), c.Message())
	case o.Message() != nil && c.Message() != nil:
		if sameName(o.Message().FullName()) != sameName(c.Message().FullName()) {
			t.Errorf("%s: type ours %s, containerd %s", o.FullName(), o.Message().FullName(), c.Message().FullName())
		}
	case o.Enum() != nil && c.Enum() != nil:
		compareEnums(t, o.Enum(), c.Enum())
	}
}

func compareEnums(t *testing.T, ours, theirs protoreflect.EnumDescriptor) {
	t.Helper()
	if ours.FullName() != theirs.FullName() {
		t.Errorf("enum name: ours %s, containerd %s", ours.FullName(), theirs.FullName())
	}
	ov, tv := ours.Values(), theirs.Values()
	if ov.Len() != tv.Len() {
		t.Errorf("%s: %d values, containerd has %d", ours.FullName(), ov.Len(), tv.Len())
	}
	for i := 0; i < ov.Len(); i++ {
		v := ov.Get(i)
		if c := tv.ByNumber(v.Number()); c == nil || c.Name() != v.Name() {
			t.Errorf("%s: value %s = %d has no same-named containerd value", ours.FullName(), v.Name(), v.Number())
		}
	}
}
