package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkEndpointSG: stub, to be implemented.
var NetworkEndpointSG = Rule{
	ID:       "network.endpoint-sg",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
