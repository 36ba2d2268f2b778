package account

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// camelSections are printed with camelCase keys, as the AWS CLI prints ECS and ECR.
var camelSections = map[reflect.Type]bool{
	reflect.TypeFor[ECSSection](): true,
	reflect.TypeFor[ECRSection](): true,
}

// Marshal writes the snapshot as indented pullmedic.snapshot/v1 JSON in the AWS
// CLI's style: SDK field names as keys (camelCase inside ecs and ecr), empty
// values left out, timestamps in RFC 3339. LoadSnapshot reads it back unchanged.
func (s *Snapshot) Marshal() ([]byte, error) {
	raw, err := s.encode()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Clone returns a deep copy, so a fix applied to the copy leaves the original alone.
// It goes through the snapshot format, which (unlike plain encoding/json) copes
// with the SDK's union-typed fields.
func (s *Snapshot) Clone() (*Snapshot, error) {
	raw, err := s.encode()
	if err != nil {
		return nil, err
	}
	return LoadSnapshot("snapshot copy", raw)
}

// encode writes compact JSON; the schema is always the one this build writes.
func (s *Snapshot) encode() ([]byte, error) {
	doc := *s
	doc.Schema = SchemaV1
	var buf bytes.Buffer
	if _, err := encodeValue(&buf, reflect.ValueOf(doc), false); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeValue writes v as JSON in field order and reports whether it holds
// anything; the caller drops empty struct fields, mirroring LoadSnapshot.
func encodeValue(buf *bytes.Buffer, v reflect.Value, camel bool) (nonEmpty bool, err error) {
	switch {
	case v.Type() == timeType:
		writeString(buf, v.Interface().(time.Time).UTC().Format(time.RFC3339Nano))
		return true, nil
	case v.Kind() == reflect.Pointer, v.Kind() == reflect.Interface:
		// Interfaces are SDK unions, which cannot be read back: leave them out.
		if v.IsNil() || v.Kind() == reflect.Interface {
			buf.WriteString("null")
			return false, nil
		}
		nonEmpty, err := encodeValue(buf, v.Elem(), camel)
		// A pointer tells false and 0 apart from absent: keep them.
		return nonEmpty || v.Elem().Kind() != reflect.String && v.Elem().Kind() != reflect.Struct, err
	case v.Kind() == reflect.String && isCanonicalObject(v.String()):
		// Policy documents read as objects are written back as objects.
		buf.WriteString(v.String())
		return true, nil
	case v.Kind() == reflect.Struct:
		return encodeStruct(buf, v, camel || camelSections[v.Type()])
	case v.Kind() == reflect.Slice:
		buf.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				buf.WriteByte(',')
			}
			if _, err := encodeValue(buf, v.Index(i), camel); err != nil {
				return false, err
			}
		}
		buf.WriteByte(']')
		return v.Len() > 0, nil
	case v.Kind() == reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeKey(buf, k.String())
			if _, err := encodeValue(buf, v.MapIndex(k), camel); err != nil {
				return false, err
			}
		}
		buf.WriteByte('}')
		return len(keys) > 0, nil
	default: // strings, enums, numbers, booleans
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return false, err
		}
		buf.Write(b)
		return !v.IsZero(), nil
	}
}

// isCanonicalObject reports whether s is a JSON object exactly as LoadSnapshot
// stores one (compact, keys sorted), so writing it as an object loses nothing.
func isCanonicalObject(s string) bool {
	if !strings.HasPrefix(s, "{") {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	b, err := json.Marshal(v)
	return err == nil && string(b) == s
}

func encodeStruct(buf *bytes.Buffer, v reflect.Value, camel bool) (bool, error) {
	buf.WriteByte('{')
	wrote := false
	for i := range v.NumField() {
		name, ok := jsonName(v.Type().Field(i))
		if !ok {
			continue
		}
		if camel {
			name = lowerFirst(name)
		}
		mark := buf.Len()
		if wrote {
			buf.WriteByte(',')
		}
		writeKey(buf, name)
		nonEmpty, err := encodeValue(buf, v.Field(i), camel)
		if err != nil {
			return false, err
		}
		if !nonEmpty {
			buf.Truncate(mark)
			continue
		}
		wrote = true
	}
	buf.WriteByte('}')
	return wrote, nil
}

func writeKey(buf *bytes.Buffer, key string) {
	writeString(buf, key)
	buf.WriteByte(':')
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
