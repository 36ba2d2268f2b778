package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// NetworkTaskSGEgress: stub, to be implemented.
var NetworkTaskSGEgress = Rule{
	ID:       "network.task-sg-egress",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
