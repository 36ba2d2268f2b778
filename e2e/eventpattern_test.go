package e2e

import (
	"fmt"
	"strings"
)

// An EventBridge event-pattern matcher for tests. moto cannot judge the
// template's pattern (no TestEventPattern; its PutEvents matcher does not look
// inside arrays of objects), so this follows EventBridge's documented rules:
//   - every field of the pattern must match; a nested object descends;
//   - a list of values/operators matches when any of them matches any value;
//   - arrays are flattened: a field inside an array of objects matches when
//     any element's field matches;
//   - "$or" matches when any of its sub-patterns matches at that level;
//   - operators: prefix, suffix, equals-ignore-case, wildcard, exists, anything-but.
//
// Anything else is an error, so a new operator in the template fails loudly
// instead of silently not matching.

// matchPattern reports whether pattern matches event (both decoded JSON/YAML).
func matchPattern(pattern map[string]any, event any) (bool, error) {
	return matchObject(pattern, []any{event})
}

func matchObject(pattern map[string]any, nodes []any) (bool, error) {
	for key, sub := range pattern {
		var ok bool
		var err error
		switch {
		case key == "$or":
			ok, err = matchOr(sub, nodes)
		default:
			switch s := sub.(type) {
			case map[string]any:
				ok, err = matchObject(s, field(nodes, key))
			case []any:
				ok, err = matchList(s, field(nodes, key))
			default:
				err = fmt.Errorf("field %q: a pattern value must be an object or a list, got %T", key, sub)
			}
		}
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func matchOr(sub any, nodes []any) (bool, error) {
	alts, ok := sub.([]any)
	if !ok || len(alts) < 2 {
		return false, fmt.Errorf("$or needs a list of at least two patterns, got %v", sub)
	}
	for _, alt := range alts {
		p, ok := alt.(map[string]any)
		if !ok {
			return false, fmt.Errorf("$or: each alternative must be an object, got %T", alt)
		}
		if m, err := matchObject(p, nodes); err != nil || m {
			return m, err
		}
	}
	return false, nil
}

// field collects the values of key in every object among nodes; an array value
// contributes each of its elements (EventBridge flattens arrays).
func field(nodes []any, key string) []any {
	var out []any
	for _, n := range nodes {
		obj, ok := n.(map[string]any)
		if !ok {
			continue
		}
		v, present := obj[key]
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			out = append(out, arr...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// matchList matches a list of values and operators against a field's values.
// Only leaves take part: operators do not apply to intermediate objects.
func matchList(matchers []any, vals []any) (bool, error) {
	var leaves []any
	for _, v := range vals {
		if _, isObj := v.(map[string]any); !isObj {
			leaves = append(leaves, v)
		}
	}
	for _, m := range matchers {
		if ok, err := matchOne(m, leaves); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func matchOne(m any, leaves []any) (bool, error) {
	op, isOp := m.(map[string]any)
	if !isOp {
		return anyLeaf(leaves, func(v any) bool { return equal(m, v) }), nil
	}
	if len(op) != 1 {
		return false, fmt.Errorf("an operator object must have exactly one key, got %v", op)
	}
	for name, arg := range op {
		switch name {
		case "exists":
			want, ok := arg.(bool)
			if !ok {
				return false, fmt.Errorf("exists takes true or false, got %v", arg)
			}
			return (len(leaves) > 0) == want, nil
		case "anything-but":
			return anythingBut(arg, leaves)
		default:
			test, err := stringTest(name, arg)
			if err != nil {
				return false, err
			}
			return anyLeaf(leaves, func(v any) bool { s, ok := v.(string); return ok && test(s) }), nil
		}
	}
	return false, nil
}

// stringTest builds the string operators, including the case-insensitive
// forms {"prefix": {"equals-ignore-case": "..."}}.
func stringTest(name string, arg any) (func(string) bool, error) {
	fold := func(s string) string { return s }
	if m, ok := arg.(map[string]any); ok && (name == "prefix" || name == "suffix") {
		v, ok := m["equals-ignore-case"]
		if !ok || len(m) != 1 {
			return nil, fmt.Errorf("%s: unsupported argument %v", name, arg)
		}
		arg, fold = v, strings.ToLower
	}
	want, ok := arg.(string)
	if !ok {
		return nil, fmt.Errorf("%s takes a string, got %v", name, arg)
	}
	want = fold(want)
	switch name {
	case "prefix":
		return func(s string) bool { return strings.HasPrefix(fold(s), want) }, nil
	case "suffix":
		return func(s string) bool { return strings.HasSuffix(fold(s), want) }, nil
	case "equals-ignore-case":
		return func(s string) bool { return strings.EqualFold(s, want) }, nil
	case "wildcard":
		if strings.Contains(want, "**") {
			return nil, fmt.Errorf("wildcard %q: EventBridge rejects consecutive wildcard characters", want)
		}
		return func(s string) bool { return wildcardMatch(want, s) }, nil
	}
	return nil, fmt.Errorf("unsupported operator %q", name)
}

// anythingBut matches a present value that is none of the excluded: a value, a
// list of values, or one string operator ({"prefix": "x"}).
func anythingBut(arg any, leaves []any) (bool, error) {
	var excluded func(any) bool
	switch a := arg.(type) {
	case []any:
		excluded = func(v any) bool {
			for _, x := range a {
				if equal(x, v) {
					return true
				}
			}
			return false
		}
	case map[string]any:
		if len(a) != 1 {
			return false, fmt.Errorf("anything-but: one operator expected, got %v", a)
		}
		for name, inner := range a {
			test, err := stringTest(name, inner)
			if err != nil {
				return false, fmt.Errorf("anything-but: %w", err)
			}
			excluded = func(v any) bool { s, ok := v.(string); return ok && test(s) }
		}
	default:
		excluded = func(v any) bool { return equal(a, v) }
	}
	return anyLeaf(leaves, func(v any) bool { return !excluded(v) }), nil
}

func anyLeaf(leaves []any, pred func(any) bool) bool {
	for _, v := range leaves {
		if pred(v) {
			return true
		}
	}
	return false
}

// equal compares a pattern value with an event value; YAML gives ints where
// JSON gives float64.
func equal(pattern, v any) bool {
	if a, ok := number(pattern); ok {
		b, ok := number(v)
		return ok && a == b
	}
	return pattern == v
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// wildcardMatch implements EventBridge's wildcard: "*" matches any run of
// characters, "\*" and "\\" are literal.
func wildcardMatch(pattern, s string) bool {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	segs = append(segs, cur.String())
	if len(segs) == 1 {
		return s == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range segs[1 : len(segs)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
