package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// DNSVPCDNS: stub, to be implemented.
var DNSVPCDNS = Rule{
	ID:       "dns.vpc-dns",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
