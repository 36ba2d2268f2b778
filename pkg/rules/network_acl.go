package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkNACL: stub, to be implemented.
var NetworkNACL = Rule{
	ID:       "network.nacl",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
