package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SnapshotError is a snapshot that cannot be used: unreadable, not JSON, another
// schema, or a value of the wrong shape. It is the user's input, not a fault of ours.
type SnapshotError struct {
	File         string
	Line, Column int    // position of a JSON syntax error, else 0
	Path         string // JSON path of a bad value, e.g. ec2.subnets[2].MapPublicIpOnLaunch
	Msg          string
	Err          error // underlying cause, if any
}

func (e *SnapshotError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

func (e *SnapshotError) Unwrap() error { return e.Err }

// ReadSnapshotFile reads and loads a pullmedic.snapshot/v1 file.
func ReadSnapshotFile(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			msg = pe.Err.Error() // the path is already in front
		}
		return nil, &SnapshotError{File: path, Msg: "cannot read: " + msg, Err: err}
	}
	return LoadSnapshot(path, data)
}

// LoadSnapshot parses a pullmedic.snapshot/v1 document; name is used in errors.
// It accepts what people paste from the AWS CLI and the raw APIs alike: keys in
// any case, timestamps as ISO-8601 or epoch seconds, policy documents as objects
// or (URL-encoded) strings, numbers and numeric strings interchangeably. Empty
// values are dropped, so a loaded snapshot survives Marshal and Load unchanged.
func LoadSnapshot(name string, data []byte) (*Snapshot, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		err.File = name
		return nil, err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &SnapshotError{File: name, Msg: "expected a JSON object at the top level, got " + describe(doc)}
	}
	if err := checkSchema(obj); err != nil {
		err.File = name
		return nil, err
	}
	norm, err := normalize(obj, reflect.TypeFor[Snapshot](), nil)
	if err != nil {
		err.File = name
		return nil, err
	}
	// normalize left only values that fit their fields, so these cannot fail on user input.
	var s Snapshot
	out, jerr := json.Marshal(norm)
	if jerr == nil {
		jerr = json.Unmarshal(out, &s)
	}
	if jerr != nil {
		return nil, &SnapshotError{File: name, Msg: jerr.Error(), Err: jerr}
	}
	if err := s.canonicalECR(); err != nil {
		err.File = name
		return nil, err
	}
	return &s, nil
}

// decodeJSON reads exactly one JSON value, keeping numbers as written.
func decodeJSON(data []byte) (any, *SnapshotError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return nil, &SnapshotError{Msg: "invalid JSON: the document is empty"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, syntaxError(data, int64(len(data)+1), "unexpected end of JSON input", err)
	case err != nil:
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, syntaxError(data, syn.Offset, err.Error(), err)
		}
		return nil, &SnapshotError{Msg: "invalid JSON: " + err.Error(), Err: err}
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, syntaxError(data, int64(len(data)-len(rest)+1), "unexpected data after the top-level value", nil)
	}
	return doc, nil
}

// syntaxError places a JSON error at a line and column; offset counts the bytes read, the bad one included.
func syntaxError(data []byte, offset int64, msg string, err error) *SnapshotError {
	offset = min(max(offset, 1), int64(len(data)+1))
	before := data[:max(offset-1, 0)]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return &SnapshotError{Line: line, Column: col, Msg: "invalid JSON: " + msg, Err: err}
}

func checkSchema(obj map[string]any) *SnapshotError {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !strings.EqualFold(k, "schema") {
			continue
		}
		s, ok := obj[k].(string)
		if ok && s == SchemaV1 {
			return nil
		}
		found := describe(obj[k])
		if ok {
			found = strconv.Quote(s)
		}
		return &SnapshotError{Path: k, Msg: fmt.Sprintf("%s is not supported (this build reads %q)", found, SchemaV1)}
	}
	return &SnapshotError{Path: "schema", Msg: fmt.Sprintf("missing: this build reads %q snapshots", SchemaV1)}
}

// jsonPath is the place of a value in the document, turned into text only for an error.
type jsonPath struct {
	parent *jsonPath
	key    string
	index  int // used when key is ""
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (p *jsonPath) String() string {
	if p == nil {
		return ""
	}
	s := p.parent.String()
	switch {
	case p.key == "":
		return s + "[" + strconv.Itoa(p.index) + "]"
	case !plainKey.MatchString(p.key):
		return s + "[" + strconv.Quote(p.key) + "]"
	case s == "":
		return p.key
	default:
		return s + "." + p.key
	}
}

func (p *jsonPath) errorf(format string, args ...any) *SnapshotError {
	return &SnapshotError{Path: p.String(), Msg: fmt.Sprintf(format, args...)}
}

// describe names a decoded JSON value in an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case []any:
		return "array"
	default:
		return "object"
	}
}

// isEmptyJSON reports values that mean "absent": they are dropped on load and on save.
func isEmptyJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

var timeType = reflect.TypeFor[time.Time]()

// normalize walks a decoded JSON value together with the Go type it will be
// decoded into, and rewrites it into the shape encoding/json expects.
func normalize(v any, t reflect.Type, p *jsonPath) (any, *SnapshotError) {
	if v == nil {
		return nil, nil
	}
	switch {
	case t == timeType:
		return normTime(v, p)
	case t.Kind() == reflect.Pointer:
		return normalize(v, t.Elem(), p)
	case t.Kind() == reflect.Interface:
		// SDK unions (e.g. ECS sharing strategies) cannot be decoded from JSON;
		// nothing pullmedic reads lives there.
		return nil, nil
	case t.Kind() == reflect.Struct:
		return normStruct(v, t, p)
	case t == vpcAttributesType:
		return normVPCAttributes(v, p)
	case t.Kind() == reflect.Map:
		return normMap(v, t, p)
	case t.Kind() == reflect.Slice:
		return normSlice(v, t, p)
	case t.Kind() == reflect.String:
		return normString(v, p)
	case t.Kind() == reflect.Bool:
		if _, ok := v.(bool); !ok {
			return nil, p.errorf("expected boolean, got %s", describe(v))
		}
		return v, nil
	default:
		return normNumber(v, t, p)
	}
}

func normStruct(v any, t reflect.Type, p *jsonPath) (any, *SnapshotError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, p.errorf("expected object, got %s", describe(v))
	}
	fields := jsonFields(t)
	out := make(map[string]any, len(obj))
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		f, ok := fields[strings.ToLower(k)]
		if !ok {
			continue // unknown keys are ignored
		}
		nv, err := normalize(obj[k], t.Field(f.index).Type, &jsonPath{parent: p, key: k})
		if err != nil {
			return nil, err
		}
		if !isEmptyJSON(nv) {
			out[f.name] = nv
		}
	}
	return out, nil
}

// checkElement refuses a list element that has keys but none of its type's:
// output pasted a level too deep or too shallow would read as an empty
// resource, which the rules take for one that exists and says nothing.
func checkElement(v any, t reflect.Type, p *jsonPath) *SnapshotError {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 || t.Kind() != reflect.Struct {
		return nil
	}
	fields := jsonFields(t)
	for k := range obj {
		if _, known := fields[strings.ToLower(k)]; known {
			return nil
		}
	}
	return p.errorf("expected %s object, got an object with none of its keys (%s)", t.Name(), strings.Join(slices.Sorted(maps.Keys(obj)), ", "))
}

func normMap(v any, t reflect.Type, p *jsonPath) (any, *SnapshotError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, p.errorf("expected object, got %s", describe(v))
	}
	out := make(map[string]any, len(obj))
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		nv, err := normalize(obj[k], t.Elem(), &jsonPath{parent: p, key: k})
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	return out, nil
}

// normSlice reads an array, or for a snapshot list the AWS CLI output that
// holds it (see cliOutputs).
func normSlice(v any, t reflect.Type, p *jsonPath) (any, *SnapshotError) {
	elems, paths, err := listElements(v, t, p)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		if err := checkElement(e, t.Elem(), paths[i]); err != nil {
			return nil, err
		}
		nv, err := normalize(e, t.Elem(), paths[i])
		if err != nil {
			return nil, err
		}
		out[i] = nv
	}
	return out, nil
}

// normString accepts numbers (ECS cpu: 256) and stores objects and arrays as
// compact JSON text (policy documents as the CLI prints them).
func normString(v any, p *jsonPath) (any, *SnapshotError) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case map[string]any, []any:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, p.errorf("%v", err)
		}
		return string(b), nil
	}
	return nil, p.errorf("expected string, got %s", describe(v))
}

// normNumber accepts numbers and numeric strings and writes them canonically.
func normNumber(v any, t reflect.Type, p *jsonPath) (any, *SnapshotError) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return nil, p.errorf("expected number, got %s", describe(v))
	}
	zero := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
				return nil, p.errorf("expected integer, got %s", describe(v))
			}
			n = int64(f)
		}
		if zero.OverflowInt(n) {
			return nil, p.errorf("%s is out of range for %s", describe(v), t.Kind())
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, p.errorf("expected number, got %s", describe(v))
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, t.Bits())), nil
	}
	return nil, p.errorf("unsupported field type %s", t)
}

// Timestamps accepted besides epoch seconds. Go's parser takes fractional seconds
// after the seconds field even when the layout does not show them.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

var (
	minEpoch = float64(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	maxEpoch = float64(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix())
)

// normTime turns an ISO-8601 string or epoch seconds into RFC 3339 in UTC.
func normTime(v any, p *jsonPath) (any, *SnapshotError) {
	var epoch string
	switch v := v.(type) {
	case json.Number:
		epoch = v.String()
	case string:
		for _, layout := range timeLayouts {
			if at, err := time.Parse(layout, v); err == nil {
				return at.UTC().Format(time.RFC3339Nano), nil
			}
		}
		epoch = v
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(epoch), 64)
	if err != nil {
		return nil, p.errorf("expected timestamp (ISO-8601 string or epoch seconds), got %s", describe(v))
	}
	if !(f >= minEpoch && f <= maxEpoch) {
		return nil, p.errorf("timestamp %s is out of range", describe(v))
	}
	sec := math.Floor(f)
	// float64 keeps about a microsecond at today's epochs; rounding drops the noise.
	usec := math.Round((f - sec) * 1e6)
	at := time.Unix(int64(sec), int64(usec)*1e3).UTC()
	return at.Format(time.RFC3339Nano), nil
}

// jsonField is a struct field under the name encoding/json gives it.
type jsonField struct {
	name  string
	index int
}

var fieldCache sync.Map // reflect.Type -> map[lowercase name]jsonField

// jsonFields maps the lowercased JSON name of each exported field to the field.
func jsonFields(t reflect.Type) map[string]jsonField {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]jsonField)
	}
	m := map[string]jsonField{}
	for i := range t.NumField() {
		if name, ok := jsonName(t.Field(i)); ok {
			m[strings.ToLower(name)] = jsonField{name: name, index: i}
		}
	}
	fieldCache.Store(t, m)
	return m
}

// jsonName is the key encoding/json uses for a field; ok is false for skipped fields.
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch tag {
	case "-":
		return "", false
	case "":
		return f.Name, true
	}
	return tag, true
}
