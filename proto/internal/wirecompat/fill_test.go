package wirecompat

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// entriesPerCollection is how many elements fill puts in every repeated field and map.
const entriesPerCollection = 2

// filled returns a new m with every field set by fill.
func filled[M proto.Message](m M) M {
	fill(m.ProtoReflect())
	return m
}

// fill sets every field of m, recursively, to a non-zero value that depends
// only on the field's name, number and kind. Two messages of the same shape
// therefore get the same content whichever Go type they are, and their
// deterministic encodings must be the same bytes.
func fill(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			entries := m.Mutable(fd).Map()
			for n := 1; n <= entriesPerCollection; n++ {
				key := scalar(fd.MapKey(), n).MapKey()
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					v := entries.NewValue()
					fill(v.Message())
					entries.Set(key, v)
				} else {
					entries.Set(key, scalar(fd.MapValue(), n))
				}
			}
		case fd.IsList():
			list := m.Mutable(fd).List()
			for n := 1; n <= entriesPerCollection; n++ {
				if fd.Kind() == protoreflect.MessageKind {
					v := list.NewElement()
					fill(v.Message())
					list.Append(v)
				} else {
					list.Append(scalar(fd, n))
				}
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			fill(m.Mutable(fd).Message())
		default:
			m.Set(fd, scalar(fd, 1))
		}
	}
}

// scalar is the n-th value fill uses for a non-message field. Numbers are
// large (multi-byte varints) and signed kinds negative, to exercise encoding.
func scalar(fd protoreflect.FieldDescriptor, n int) protoreflect.Value {
	num := int64(fd.Number())
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		count := values.Len()
		return protoreflect.ValueOfEnum(values.Get(n % count).Number()) // n=1: the first non-zero value
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(-int32(num*1000) - int32(n))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(1<<31 | uint32(num)<<8 | uint32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1<<40 + num*1000 + int64(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1<<63 | uint64(num)<<8 | uint64(n))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(num) + 0.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(num) + 0.25)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("%s-%d-é", fd.Name(), n))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0, 0xff, byte(num), byte(n)})
	}
	panic(fmt.Sprintf("fill: unhandled kind %v of %s", fd.Kind(), fd.FullName()))
}

// assertFullyPopulated fails when a field of m (recursively) is unset, or m
// holds unknown fields: proof that fill reached every field and that a decode
// understood every byte.
func assertFullyPopulated(t *testing.T, m protoreflect.Message) {
	t.Helper()
	for _, missing := range unpopulated(m, string(m.Descriptor().FullName())) {
		t.Errorf("not populated: %s", missing)
	}
}

func unpopulated(m protoreflect.Message, path string) []string {
	var missing []string
	if len(m.GetUnknown()) > 0 {
		missing = append(missing, path+" (has unknown fields)")
	}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		at := path + "." + string(fd.Name())
		switch {
		case fd.IsMap():
			entries := m.Get(fd).Map()
			if entries.Len() != entriesPerCollection {
				missing = append(missing, fmt.Sprintf("%s (%d entries)", at, entries.Len()))
			}
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				entries.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
					missing = append(missing, unpopulated(v.Message(), fmt.Sprintf("%s[%v]", at, k))...)
					return true
				})
			}
		case fd.IsList():
			list := m.Get(fd).List()
			if list.Len() != entriesPerCollection {
				missing = append(missing, fmt.Sprintf("%s (%d elements)", at, list.Len()))
			}
			if fd.Kind() == protoreflect.MessageKind {
				for j := 0; j < list.Len(); j++ {
					missing = append(missing, unpopulated(list.Get(j).Message(), fmt.Sprintf("%s[%d]", at, j))...)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if !m.Has(fd) {
				missing = append(missing, at)
				continue
			}
			missing = append(missing, unpopulated(m.Get(fd).Message(), at)...)
		case fd.Kind() == protoreflect.EnumKind && fd.Enum().Values().Len() == 1:
			// An enum with only its zero value cannot be told apart from unset.
		default:
			if !m.Has(fd) {
				missing = append(missing, at)
			}
		}
	}
	return missing
}
