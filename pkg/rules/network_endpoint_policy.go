package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkEndpointPolicy: stub, to be implemented.
var NetworkEndpointPolicy = Rule{
	ID:       "network.endpoint-policy",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
