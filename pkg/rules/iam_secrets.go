package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// IAMSecrets: stub, to be implemented.
var IAMSecrets = Rule{
	ID:       "iam.secrets",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
