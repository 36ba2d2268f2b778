package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// IAMExecutionRole: stub, to be implemented.
var IAMExecutionRole = Rule{
	ID:       "iam.execution-role",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
