package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// An EventBridge event-pattern matcher for tests. moto cannot judge the
// template's pattern (no TestEventPattern; its PutEvents matcher does not look
// inside arrays of objects), so this follows EventBridge's documented rules
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):
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

// corpusPath is the stop-reason corpus of pkg/event: messages copied verbatim
// from public threads.
const corpusPath = "../pkg/event/testdata/corpus/stop-reasons.jsonl"

func loadCorpusMessages(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Message == "" {
			t.Fatalf("%s:%d: no message (%v)", corpusPath, i+1, err)
		}
		out = append(out, e.Message)
	}
	return out
}

// errorNames are the pull-failure error names a stop reason can start with.
var errorNames = []string{"CannotPullContainerError", "CannotPullECRContainerError", "ResourceInitializationError"}

// reCased gives a message the error name in other casings, as the spec asks to
// tolerate; a message without a leading error name has no variants.
func reCased(msg string) map[string]string {
	out := map[string]string{}
	for _, name := range errorNames {
		if len(msg) >= len(name) && strings.EqualFold(msg[:len(name)], name) {
			rest := msg[len(name):]
			out["lower"] = strings.ToLower(name) + rest
			out["upper"] = strings.ToUpper(name) + rest
		}
	}
	return out
}

// The agent's own sentence before the error, with either apostrophe.
const (
	agentCurly    = "The task can’t pull the image. Check that the role has the permissions to pull images from the registry. "
	agentStraight = "The task can't pull the image. Check your network configuration. "
)

// TestPullFailurePatternCorpus runs every corpus message, in the places and
// forms ECS reports it, through the template's pattern and through event.Parse:
// each must be delivered and recognised. The pattern may deliver more than Parse
// takes (that costs one cheap invocation), never less.
// It runs on the rule of every place the pattern is: the function's rule (on
// the default bus, or the hub bus) and the member accounts' forwarding rule.
func TestPullFailurePatternCorpus(t *testing.T) {
	for where, pattern := range rulePatterns(t, "PullFailure") {
		t.Run(where, func(t *testing.T) { pullFailureCorpus(t, pattern) })
	}
}

func pullFailureCorpus(t *testing.T, pattern map[string]any) {
	base := loadEvent(t, "testdata/events/stopped-pull-timeout-service.json")
	var delivered, recognised, total int
	for i, msg := range loadCorpusMessages(t) {
		variants := map[string]string{"verbatim": msg, "after the agent's sentence (’)": agentCurly + msg, "after the agent's sentence (')": agentStraight + msg}
		for name, v := range reCased(msg) {
			variants[name+" case"] = v
		}
		for variant, text := range variants {
			for place, put := range map[string]func(string) func(map[string]any){"stoppedReason": inStoppedReason, "containers.reason": inContainerReason} {
				total++
				ev := edit(t, base, put(text))
				ok, err := matchPattern(pattern, ev)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					delivered++
				} else {
					t.Errorf("corpus %d, %s, in %s: not delivered\n  %s", i+1, variant, place, text)
				}
				raw, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := event.Parse(raw); err == nil {
					recognised++
				} else {
					t.Errorf("corpus %d, %s, in %s: not recognised: %v\n  %s", i+1, variant, place, err, text)
				}
			}
		}
	}
	t.Logf("corpus events: %d; delivered %d; recognised %d", total, delivered, recognised)
}

// TestMatcherOperatorsOfThePullFailureRule pins the matcher to EventBridge on
// the operators the PullFailure rule uses: wildcard is case-sensitive and may
// start with "*"; prefix with equals-ignore-case ignores case, spaces included.
func TestMatcherOperatorsOfThePullFailureRule(t *testing.T) {
	cases := []struct {
		op    map[string]any
		value string
		want  bool
	}{
		{map[string]any{"wildcard": "*CannotPull*ContainerError*"}, "The task can’t pull the image. CannotPullECRContainerError: x", true},
		{map[string]any{"wildcard": "*CannotPull*ContainerError*"}, "the task: cannotpullcontainererror: x", false},
		{map[string]any{"wildcard": "*The task can*t pull the image*"}, "The task can’t pull the image.", true},
		{map[string]any{"wildcard": "*ResourceInitializationError*secret*"}, "ResourceInitializationError: failed to validate logger args", false},
		{map[string]any{"prefix": map[string]any{"equals-ignore-case": "ResourceInitializationError: unable to pull secrets or registry auth"}},
			"RESOURCEINITIALIZATIONERROR: UNABLE TO PULL SECRETS OR REGISTRY AUTH: x", true},
		{map[string]any{"prefix": map[string]any{"equals-ignore-case": "CannotPullECRContainerError"}}, "CannotPullContainerError: x", false},
	}
	for _, c := range cases {
		got, err := matchPattern(map[string]any{"r": []any{c.op}}, map[string]any{"r": c.value})
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%v on %q: match = %v, want %v", c.op, c.value, got, c.want)
		}
	}
}
