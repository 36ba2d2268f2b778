package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkRoute: stub, to be implemented.
var NetworkRoute = Rule{
	ID:       "network.route",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
