package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// ImageRepository: stub, to be implemented.
var ImageRepository = Rule{
	ID:       "image.repository",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
