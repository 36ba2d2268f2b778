package policy

import (
	"slices"
	"strings"
)

// Decision is the outcome of an evaluation.
type Decision string

const (
	Allow        Decision = "Allow"
	Deny         Decision = "Deny"
	ImplicitDeny Decision = "ImplicitDeny"
)

// Request is one API call to judge. Principal is the caller (a role or
// assumed-role ARN, an account ID, a service such as
// "ecs-tasks.amazonaws.com", or Anonymous); leave it empty for identity
// policies, which then match every statement's principal. Context holds the
// condition keys the caller knows; conditions on any other key stay undecided.
type Request struct {
	Action, Resource, Principal string
	Context                     Context
}

// Anonymous is a caller no policy can name: only statements for "*" (and
// NotPrincipal ones) apply to it. ECR's presigned layer URLs are such calls,
// signed by an AWS-owned identity.
const Anonymous = "anonymous"

// Result is a decision with the statement that made it, for evidence.
type Result struct {
	Decision Decision `json:"decision"`
	// Policy is the Name of the deciding document.
	Policy string `json:"policy,omitempty"`
	// Statement is the deciding statement's Sid, else "Statement[i]".
	Statement string `json:"statement,omitempty"`
	// Conditional: the deciding statement has a Condition the request's
	// Context cannot decide, so the decision holds only if that condition does.
	Conditional bool `json:"conditional,omitempty"`
	// Decided says what the Context held for each condition key of the
	// deciding statement it decided ("aws:SourceVpce absent"); Undecided
	// names the tests it could not ("StringEquals aws:PrincipalOrgID").
	// Callers word them into messages; they stay out of the JSON evidence.
	Decided   []string `json:"-"`
	Undecided []string `json:"-"`
	// Boundary: the permissions boundary decided (it did not allow the action).
	Boundary bool `json:"boundary,omitempty"`
}

// rank orders results by strength: an explicit Deny beats any Allow, and an
// unconditional statement beats a conditional one of the same effect.
func (r Result) rank() int {
	var n int
	switch r.Decision {
	case Allow:
		n = 1
	case Deny:
		n = 3
	default:
		return 0
	}
	if !r.Conditional {
		n++
	}
	return n
}

// stronger returns b if it outranks a, else a (the first decider is kept on ties).
func stronger(a, b Result) Result {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Evaluate judges one request against the document. A statement whose
// condition the request's Context shows to be false does not apply. A nil
// document denies implicitly.
func (d *Document) Evaluate(r Request) Result {
	res := Result{Decision: ImplicitDeny}
	if d == nil {
		return res
	}
	for i := range d.Statements {
		st := &d.Statements[i]
		if !st.matches(r) {
			continue
		}
		c := st.evalCondition(r.Context)
		if c.holds == isFalse {
			continue
		}
		res = stronger(res, Result{
			Decision:    Decision(st.Effect),
			Policy:      d.Name,
			Statement:   st.label(i),
			Conditional: c.holds == unknown,
			Decided:     c.decided,
			Undecided:   c.open,
		})
	}
	return res
}

// EvaluateAll judges a request against a principal's identity policies (the
// union of their allows, any explicit Deny wins) and, when boundary is not
// nil, its permissions boundary, which must allow the action as well.
func EvaluateAll(identity []*Document, boundary *Document, r Request) Result {
	res := Result{Decision: ImplicitDeny}
	for _, d := range identity {
		res = stronger(res, d.Evaluate(r))
	}
	if boundary == nil || res.Decision != Allow {
		return res
	}
	b := boundary.Evaluate(r)
	switch b.Decision {
	case Deny:
		b.Boundary = true
		return b
	case Allow:
		res.Conditional = res.Conditional || b.Conditional
		res.Decided = append(slices.Clip(res.Decided), b.Decided...)
		res.Undecided = append(slices.Clip(res.Undecided), b.Undecided...)
		return res
	default:
		return Result{Decision: ImplicitDeny, Policy: boundary.Name, Boundary: true}
	}
}

// matches applies the statement's elements to the request. Resource and
// trust policies may omit Resource: it then means the resource the policy is
// attached to. A statement with neither Action nor NotAction matches nothing.
func (s *Statement) matches(r Request) bool {
	return element(s.Action, s.NotAction, r.Action, true, false) &&
		element(s.Resource, s.NotResource, r.Resource, false, true) &&
		s.matchesPrincipal(r.Principal)
}

// element matches a value against an element or its Not* form; absent is
// the answer when the statement has neither.
func element(list, notList StringList, v string, fold, absent bool) bool {
	switch {
	case list != nil:
		return anyGlob(list, v, fold)
	case notList != nil:
		return !anyGlob(notList, v, fold)
	}
	return absent
}

func (s *Statement) matchesPrincipal(who string) bool {
	switch {
	case who == "":
		return true
	case s.Principal != nil:
		return s.Principal.matches(who)
	case s.NotPrincipal != nil:
		return !s.NotPrincipal.matches(who)
	}
	return true
}

func (p Principal) matches(who string) bool {
	for typ, vals := range p {
		for _, v := range vals {
			if principalMatches(typ, v, who) {
				return true
			}
		}
	}
	return false
}

// principalMatches compares one Principal value with the caller: "*", the
// same principal, the caller's account (ID or :root ARN), or the role whose
// assumed-role session the caller is.
func principalMatches(typ, v, who string) bool {
	if v == "*" || v == who {
		return true
	}
	if !strings.EqualFold(typ, "AWS") {
		return strings.EqualFold(typ, "Service") && strings.EqualFold(v, who)
	}
	if acct, ok := wholeAccount(v); ok {
		return acct == accountOf(who)
	}
	return roleOfSession(who) != "" && roleOfSession(who) == roleKey(v)
}

// wholeAccount returns the account of a principal that names a whole
// account: "123456789012" or "arn:aws:iam::123456789012:root".
func wholeAccount(v string) (string, bool) {
	if isAccountID(v) {
		return v, true
	}
	f := strings.Split(v, ":")
	if len(f) == 6 && f[0] == "arn" && f[2] == "iam" && f[5] == "root" {
		return f[4], true
	}
	return "", false
}

// accountOf returns the account of a caller: an account ID or any ARN's account field.
func accountOf(who string) string {
	if isAccountID(who) {
		return who
	}
	if f := strings.SplitN(who, ":", 6); len(f) == 6 && f[0] == "arn" {
		return f[4]
	}
	return ""
}

// roleKey reduces a role ARN to "partition:account:name" (the path dropped,
// as in assumed-role ARNs), or "" for anything else.
func roleKey(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || !strings.HasPrefix(f[5], "role/") {
		return ""
	}
	return f[1] + ":" + f[4] + ":" + f[5][strings.LastIndex(f[5], "/")+1:]
}

// roleOfSession maps arn:P:sts::ACCT:assumed-role/NAME/SESSION to "P:ACCT:NAME".
func roleOfSession(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "sts" {
		return ""
	}
	parts := strings.Split(f[5], "/")
	if len(parts) != 3 || parts[0] != "assumed-role" || parts[1] == "" {
		return ""
	}
	return f[1] + ":" + f[4] + ":" + parts[1]
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM wildcards: '*' any run of characters (including '/' and
// ':'), '?' exactly one. path.Match does not fit: its '*' stops at '/'.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, t := []rune(pattern), []rune(s)
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case star >= 0:
			mark++
			pi, ti = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
