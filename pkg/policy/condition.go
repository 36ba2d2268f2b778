package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Condition keys the facts of a pull can decide.
const (
	KeySourceVpce       = "aws:SourceVpce"
	KeySourceVpc        = "aws:SourceVpc"
	KeyPrincipalAccount = "aws:PrincipalAccount"
	KeyPrincipalArn     = "aws:PrincipalArn"
	KeyPrincipalOrgID   = "aws:PrincipalOrgID"
)

// Fact is what the caller knows of one condition key in a request: present
// with a value (Is), or missing from the request context (Absent).
type Fact struct {
	value   string
	present bool
}

// Is is a key present in the request context with value v.
func Is(v string) Fact { return Fact{value: v, present: true} }

// Absent is a key known to be missing from the request context, as
// aws:SourceVpce is on a call that uses no VPC endpoint.
var Absent = Fact{}

// Context maps condition keys to what the caller knows of them. A key that
// is not in the map is unknown: a condition on it is left undecided and the
// statement stays Conditional. Keys are matched without regard to case, as
// IAM matches them. Each key has at most one value: the keys supplied here
// are single-valued ones (aws:SourceVpce, aws:PrincipalArn, ...).
type Context map[string]Fact

// lookup finds a key's fact, ok false when the key is unknown.
func (c Context) lookup(key string) (Fact, bool) {
	if f, ok := c[key]; ok {
		return f, true
	}
	for k, f := range c {
		if strings.EqualFold(k, key) {
			return f, true
		}
	}
	return Fact{}, false
}

// Describe says what the context holds for key, for evidence.
func (c Context) Describe(key string) string {
	f, ok := c.lookup(key)
	switch {
	case !ok:
		return key + " unknown"
	case !f.present:
		return key + " absent"
	}
	return fmt.Sprintf("%s = %q", key, f.value)
}

// truth is a three-valued outcome: a condition the context cannot decide is unknown.
type truth int8

const (
	unknown truth = iota
	isFalse
	isTrue
)

func truthOf(b bool) truth {
	if b {
		return isTrue
	}
	return isFalse
}

// conditionOutcome is what a statement's Condition block comes to for a request.
type conditionOutcome struct {
	holds truth
	// decided says what the context held for each key it decided
	// ("aws:SourceVpce absent"); open names the tests it could not
	// ("StringEquals aws:PrincipalOrgID").
	decided, open []string
}

// evalCondition decides a statement's Condition block. IAM ANDs the
// operators of a block and the keys under one operator, so one false test
// makes the block false whatever stays open, and the block holds only when
// every test holds
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html).
func (s *Statement) evalCondition(ctx Context) conditionOutcome {
	if !s.HasCondition() {
		return conditionOutcome{holds: isTrue}
	}
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(s.Condition, &block); err != nil {
		return conditionOutcome{holds: unknown, open: []string{"malformed Condition"}}
	}
	out := conditionOutcome{holds: isTrue}
	for _, op := range sortedKeys(block) {
		for _, key := range sortedKeys(block[op]) {
			switch conditionTest(op, key, block[op][key], ctx) {
			case isFalse:
				return conditionOutcome{holds: isFalse}
			case isTrue:
				out.decided = append(out.decided, ctx.Describe(key))
			default:
				out.holds = unknown
				out.open = append(out.open, op+" "+key)
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// conditionTest decides one operator on one key, or leaves it unknown: an
// operator not handled here, a key the context does not know, or values
// that are not plain strings (policy variables included).
func conditionTest(op, key string, raw json.RawMessage, ctx Context) truth {
	o, ok := parseOperator(op)
	if !ok {
		return unknown
	}
	fact, known := ctx.lookup(key)
	if !known {
		return unknown
	}
	vals, ok := conditionValues(raw)
	if !ok {
		return unknown
	}
	return o.eval(fact, vals)
}

// setQualifier is a ForAnyValue: or ForAllValues: prefix.
type setQualifier int8

const (
	noSet setQualifier = iota
	forAnyValue
	forAllValues
)

// operator is a parsed condition operator.
type operator struct {
	match    func(pattern, value string) bool // nil for Null
	negated  bool
	ifExists bool
	set      setQualifier
}

// matchers are the operators decided here, by lower-cased name. ArnEquals
// and ArnLike are the same test: a case-sensitive match of each of the six
// colon-separated fields, with wildcards
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
// "Amazon Resource Name (ARN) condition operators").
var matchers = map[string]operator{
	"stringequals":              {match: stringEquals},
	"stringnotequals":           {match: stringEquals, negated: true},
	"stringequalsignorecase":    {match: strings.EqualFold},
	"stringnotequalsignorecase": {match: strings.EqualFold, negated: true},
	"stringlike":                {match: stringLike},
	"stringnotlike":             {match: stringLike, negated: true},
	"arnequals":                 {match: arnLike},
	"arnlike":                   {match: arnLike},
	"arnnotequals":              {match: arnLike, negated: true},
	"arnnotlike":                {match: arnLike, negated: true},
	"null":                      {},
}

// parseOperator splits an operator into its set qualifier, base operator and
// IfExists suffix. Null takes neither: IAM allows IfExists on every operator
// but Null, and a set qualifier on a presence test means nothing.
func parseOperator(name string) (operator, bool) {
	lower := strings.ToLower(name)
	set := noSet
	if rest, ok := strings.CutPrefix(lower, "foranyvalue:"); ok {
		set, lower = forAnyValue, rest
	} else if rest, ok := strings.CutPrefix(lower, "forallvalues:"); ok {
		set, lower = forAllValues, rest
	}
	base, ifExists := strings.CutSuffix(lower, "ifexists")
	o, ok := matchers[base]
	if !ok || (o.match == nil && (ifExists || set != noSet)) {
		return operator{}, false
	}
	o.ifExists, o.set = ifExists, set
	return o, true
}

// eval applies the operator to a known fact. The rules for a missing key
// are IAM's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
// the values do not match, so a condition is false, and a negated one
// (StringNotEquals, ArnNotLike, ...) is true; ...IfExists is true; Null
// "true" tests that the key is missing and "false" that it is present.
// Several values of a key are ORed, and NORed under a negated operator.
//
// The set qualifiers compare the request's set of values, which for a
// single-valued key is empty or has one member
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
// ForAllValues holds over the empty set, ForAnyValue does not (whatever the
// IfExists suffix says), and over one value both are the plain operator.
func (o operator) eval(f Fact, vals []string) truth {
	if o.match == nil {
		hit := false
		for _, v := range vals {
			switch strings.ToLower(v) {
			case "true":
				hit = hit || !f.present
			case "false":
				hit = hit || f.present
			default:
				return unknown
			}
		}
		return truthOf(hit)
	}
	if !f.present {
		switch {
		case o.set == forAnyValue:
			return isFalse
		case o.set == forAllValues, o.ifExists:
			return isTrue
		}
		return truthOf(o.negated)
	}
	matched := slices.ContainsFunc(vals, func(p string) bool { return o.match(p, f.value) })
	return truthOf(matched != o.negated)
}

// conditionValues decodes a key's policy values: a string, a boolean (as
// Null is often written) or an array of them. A policy variable ("${...}")
// would need the request's other keys, so it leaves the test undecided.
func conditionValues(raw json.RawMessage) ([]string, bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch x := it.(type) {
		case string:
			if strings.Contains(x, "${") {
				return nil, false
			}
			out = append(out, x)
		case bool:
			out = append(out, fmt.Sprint(x))
		default:
			return nil, false
		}
	}
	return out, true
}

func stringEquals(pattern, value string) bool { return pattern == value }

// stringLike is StringLike's case-sensitive match with '*' and '?'.
func stringLike(pattern, value string) bool { return glob(pattern, value, false) }

// arnLike matches the six fields of an ARN one by one; the last field keeps
// any further colons, so a wildcard cannot stretch across fields.
func arnLike(pattern, value string) bool {
	p, v := strings.SplitN(pattern, ":", 6), strings.SplitN(value, ":", 6)
	if len(p) != 6 || len(v) != 6 {
		return false
	}
	for i := range p {
		if !glob(p[i], v[i], false) {
			return false
		}
	}
	return true
}
