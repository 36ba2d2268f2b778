// Package policy parses IAM policy documents (identity, resource, trust,
// boundary and VPC endpoint policies) and evaluates a request against them
// with IAM's rules: wildcards, Not* elements, explicit Deny wins.
// Conditions are decided where the request's Context knows their keys (the
// string, ARN and Null operators); a decision that rests on a condition it
// cannot decide is marked Conditional.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Effects of a statement.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Document is a parsed policy.
type Document struct {
	// Name labels the document in results (a policy ARN, "inline NAME", ...);
	// it is set by the caller, never parsed.
	Name       string      `json:"-"`
	Version    string      `json:"Version,omitempty"`
	Statements []Statement `json:"Statement"`
}

// Statement is one statement. A nil Principal means the element was absent
// (an identity policy); Principal{"AWS": {"*"}} is what "*" decodes to.
type Statement struct {
	Sid          string          `json:"Sid,omitempty"`
	Effect       string          `json:"Effect"`
	Principal    Principal       `json:"Principal,omitempty"`
	NotPrincipal Principal       `json:"NotPrincipal,omitempty"`
	Action       StringList      `json:"Action,omitempty"`
	NotAction    StringList      `json:"NotAction,omitempty"`
	Resource     StringList      `json:"Resource,omitempty"`
	NotResource  StringList      `json:"NotResource,omitempty"`
	Condition    json.RawMessage `json:"Condition,omitempty"`
}

// HasCondition reports whether the statement carries a non-empty Condition.
func (s *Statement) HasCondition() bool {
	c := bytes.TrimSpace(s.Condition)
	return len(c) > 0 && !bytes.Equal(c, []byte("null")) && !bytes.Equal(c, []byte("{}"))
}

// StringList decodes a JSON string or array of strings.
type StringList []string

func (l *StringList) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*l = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("expected a string or an array of strings")
	}
	*l = many
	return nil
}

// Principal maps a principal type ("AWS", "Service", "Federated",
// "CanonicalUser") to its values. The bare "*" decodes to {"AWS": ["*"]}.
type Principal map[string]StringList

func (p *Principal) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*p = nil
		return nil
	}
	var star string
	if err := json.Unmarshal(b, &star); err == nil {
		if star != "*" {
			return fmt.Errorf("principal %q: expected \"*\" or an object", star)
		}
		*p = Principal{"AWS": {"*"}}
		return nil
	}
	var m map[string]StringList
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("principal: %w", err)
	}
	*p = m
	return nil
}

// isNull reports a JSON null, which encoding/json passes to UnmarshalJSON.
func isNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

// statementList decodes Statement as one object or an array.
type statementList []Statement

func (l *statementList) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var one Statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = statementList{one}
		return nil
	}
	var many []Statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// Parse decodes a policy document: raw JSON or URL-encoded JSON (as IAM's
// GetAccountAuthorizationDetails and GetRolePolicy return it).
func Parse(doc string) (*Document, error) {
	s := strings.TrimSpace(doc)
	if s == "" {
		return nil, errors.New("policy: empty document")
	}
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") || s[0] != '{' {
		u, err := url.QueryUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("policy: not JSON and not URL-encoded JSON: %w", err)
		}
		s = strings.TrimSpace(u)
	}
	var raw struct {
		Version   string         `json:"Version"`
		Statement *statementList `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("policy: invalid JSON: %w", err)
	}
	if raw.Statement == nil {
		return nil, errors.New("policy: no Statement element")
	}
	d := &Document{Version: raw.Version, Statements: *raw.Statement}
	for i := range d.Statements {
		st := &d.Statements[i]
		switch {
		case strings.EqualFold(st.Effect, EffectAllow):
			st.Effect = EffectAllow
		case strings.EqualFold(st.Effect, EffectDeny):
			st.Effect = EffectDeny
		default:
			return nil, fmt.Errorf("policy: statement %s: Effect %q is neither Allow nor Deny", st.label(i), st.Effect)
		}
	}
	return d, nil
}

// label names a statement for evidence: its Sid, else its position.
func (s *Statement) label(i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("Statement[%d]", i)
}

// Find returns the statement a Result names (by Sid or position), or nil.
func (d *Document) Find(label string) *Statement {
	if d == nil {
		return nil
	}
	for i := range d.Statements {
		if d.Statements[i].label(i) == label {
			return &d.Statements[i]
		}
	}
	return nil
}

// Anyone reports whether the principal includes "*" (every AWS principal).
func (p Principal) Anyone() bool {
	for _, vals := range p {
		for _, v := range vals {
			if v == "*" {
				return true
			}
		}
	}
	return false
}
