package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// IAMRepositoryPolicy: stub, to be implemented.
var IAMRepositoryPolicy = Rule{
	ID:       "iam.repository-policy",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
