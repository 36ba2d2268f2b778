package rules

import "github.com/pullmedic/pullmedic/pkg/account"

// ImageTag: stub, to be implemented.
var ImageTag = Rule{
	ID:       "image.tag",
	Severity: High,
	Check: func(f *account.Facts) Finding {
		return Finding{Status: Skip, Message: "not implemented yet"}
	},
}
