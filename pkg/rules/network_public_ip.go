package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkPublicIP: stub, to be implemented.
var NetworkPublicIP = Rule{
	ID:       "network.public-ip",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
