package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// IAMECRPull: stub, to be implemented.
var IAMECRPull = Rule{
	ID:       "iam.ecr-pull",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
