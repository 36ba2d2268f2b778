package rules

import (
	"net/netip"
	"strings"
)

// anyIPv4 is the whole IPv4 space: what "the internet" means to an ACL or SG rule.
var anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")

// parsePrefix reads a CIDR block or a bare address (as a host prefix).
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// covers reports whether every address of inner lies in outer.
func covers(outer, inner netip.Prefix) bool {
	return outer.IsValid() && inner.IsValid() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// coversString is covers for a CIDR given as text; unparsable text covers nothing.
func coversString(outer string, inner netip.Prefix) bool {
	p, ok := parsePrefix(outer)
	return ok && covers(p, inner)
}

// prefixStrings renders prefixes for evidence and messages.
func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
