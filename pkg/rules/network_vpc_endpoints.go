package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkVPCEndpoints: stub, to be implemented.
var NetworkVPCEndpoints = Rule{
	ID:       "network.vpc-endpoints",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
